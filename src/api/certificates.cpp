#include "api/certificates.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "api/files.hpp"

namespace castor::api {
namespace {

template <class T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const noexcept { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Free<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using Names = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES, GENERAL_NAMES_free>>;

constexpr long kCaDays = 3650;
constexpr long kServerDays = 825;  // the longest validity that macOS and browsers accept

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Status tls_error(std::string_view what) {
  return internal_error("TLS certificate generation failed while " + std::string(what) + ": " +
                        openssl_error());
}

Result<Cert> read_cert(const std::filesystem::path& path) {
  Bio bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return not_found("cannot open certificate '" + path.string() + "'");
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return invalid_argument("'" + path.string() + "' holds no PEM certificate");
  }
  return cert;
}

Result<PKey> read_key(const std::filesystem::path& path) {
  Bio bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return not_found("cannot open private key '" + path.string() + "'");
  PKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return invalid_argument("'" + path.string() + "' holds no unencrypted PEM private key");
  }
  return key;
}

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
  bytes[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  if (bn == nullptr) return false;
  bool ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  return ok;
}

// A certificate for `key` named `common_name`, valid for `days`, not yet signed.
Result<Cert> new_cert(EVP_PKEY* key, const std::string& common_name, long days) {
  Cert cert(X509_new());
  X509_NAME* name = cert ? X509_get_subject_name(cert.get()) : nullptr;
  if (!cert || X509_set_version(cert.get(), 2) != 1 || !set_random_serial(cert.get()) ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1 ||
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("Castor"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return tls_error("filling in a certificate");
  }
  return cert;
}

std::string san_list(const CertificateRequest& request) {
  std::string out;
  for (const auto& d : request.dns_names) out += (out.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : request.ips) out += (out.empty() ? "IP:" : ",IP:") + ip;
  return out;
}

Result<std::string> pem_of(X509* cert, EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  bool ok = bio && (cert ? PEM_write_bio_X509(bio.get(), cert)
                         : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                    nullptr)) == 1;
  if (!ok) return tls_error("encoding PEM");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Status generate(const CertificateFiles& files, const CertificateRequest& request) {
  PKey ca_key(EVP_EC_gen("P-256"));
  PKey server_key(EVP_EC_gen("P-256"));
  if (!ca_key || !server_key) return tls_error("generating P-256 keys");
  std::string host = request.dns_names.size() > 1 ? request.dns_names[1] : "localhost";
  auto ca = new_cert(ca_key.get(), "Castor local CA (" + host + ")", kCaDays);
  if (!ca) return ca.status();
  X509_set_issuer_name(ca->get(), X509_get_subject_name(ca->get()));
  if (!add_extension(ca->get(), ca->get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !add_extension(ca->get(), ca->get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_extension(ca->get(), ca->get(), NID_subject_key_identifier, "hash") ||
      X509_sign(ca->get(), ca_key.get(), EVP_sha256()) == 0) {
    return tls_error("making the CA certificate");
  }
  auto server = new_cert(server_key.get(), request.dns_names.front(), kServerDays);
  if (!server) return server.status();
  X509_set_issuer_name(server->get(), X509_get_subject_name(ca->get()));
  if (!add_extension(server->get(), ca->get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(server->get(), ca->get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(server->get(), ca->get(), NID_ext_key_usage, "serverAuth") ||
      !add_extension(server->get(), ca->get(), NID_subject_key_identifier, "hash") ||
      !add_extension(server->get(), ca->get(), NID_authority_key_identifier, "keyid:always") ||
      !add_extension(server->get(), ca->get(), NID_subject_alt_name, san_list(request)) ||
      X509_sign(server->get(), ca_key.get(), EVP_sha256()) == 0) {
    return tls_error("making the server certificate");
  }
  auto key_pem = pem_of(nullptr, server_key.get());
  auto cert_pem = pem_of(server->get(), nullptr);
  auto ca_pem = pem_of(ca->get(), nullptr);
  if (!key_pem) return key_pem.status();
  if (!cert_pem) return cert_pem.status();
  if (!ca_pem) return ca_pem.status();
  CASTOR_RETURN_IF_ERROR(write_file_atomically(files.key, *key_pem, 0600));
  CASTOR_RETURN_IF_ERROR(write_file_atomically(files.cert, *cert_pem, 0644));
  return write_file_atomically(files.ca, *ca_pem, 0644);
}

// "" when the files in `files` can be reused; otherwise why not.
std::string reuse_problem(const CertificateFiles& files, const CertificateRequest& request) {
  std::error_code ec;
  if (!std::filesystem::exists(files.ca, ec) && !std::filesystem::exists(files.cert, ec)) {
    return "first start";
  }
  auto ca = read_cert(files.ca);
  auto cert = read_cert(files.cert);
  auto key = read_key(files.key);
  if (!ca || !cert || !key) return "ca.pem, server.pem or server.key is missing or unreadable";
  if (X509_verify(cert->get(), X509_get0_pubkey(ca->get())) != 1 ||
      X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return "the files do not belong together";
  }
  time_t limit = time(nullptr) +
                 std::chrono::duration_cast<std::chrono::seconds>(request.renew_before).count();
  if (X509_cmp_time(X509_get0_notAfter(cert->get()), &limit) <= 0)
    return "the certificate expires soon";
  auto names = certificate_names(files.cert);
  if (!names) return "the certificate has no names";
  for (const auto& d : request.dns_names) {
    if (std::find(names->begin(), names->end(), "DNS:" + d) == names->end()) {
      return "the certificate does not name " + d;
    }
  }
  for (const auto& ip : request.ips) {
    if (std::find(names->begin(), names->end(), "IP:" + ip) == names->end()) {
      return "the certificate does not name " + ip;
    }
  }
  return {};
}

bool dns_safe(std::string_view name) {
  return !name.empty() && name.size() < 254 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  });
}

}  // namespace

CertificateRequest default_certificate_request() {
  CertificateRequest r;
  r.dns_names.push_back("localhost");
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && dns_safe(host) &&
      std::string_view(host) != "localhost") {
    r.dns_names.push_back(host);
  }
  r.ips = {"127.0.0.1", "::1"};
  return r;
}

Result<CertificateFiles> ensure_certificates(const std::filesystem::path& dir,
                                             const CertificateRequest& request) {
  if (request.dns_names.empty()) return invalid_argument("a certificate needs at least one name");
  CASTOR_RETURN_IF_ERROR(ensure_directory(dir, 0700));
  CertificateFiles files{dir / "ca.pem", dir / "server.pem", dir / "server.key", false, {}};
  files.reason = reuse_problem(files, request);
  if (files.reason.empty()) return files;
  CASTOR_RETURN_IF_ERROR(generate(files, request));
  files.generated = true;
  return files;
}

Status check_certificate_pair(const std::filesystem::path& cert_path,
                              const std::filesystem::path& key_path) {
  auto cert = read_cert(cert_path);
  if (!cert) return invalid_argument(cert.status().message() + "; check --tls-cert.");
  auto key = read_key(key_path);
  if (!key) return invalid_argument(key.status().message() + "; check --tls-key.");
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return invalid_argument("the key in '" + key_path.string() +
                            "' does not belong to the "
                            "certificate in '" +
                            cert_path.string() + "'; give the matching pair.");
  }
  return Status::ok();
}

Result<std::vector<std::string>> certificate_names(const std::filesystem::path& pem) {
  auto cert = read_cert(pem);
  if (!cert) return cert.status();
  Names names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> out;
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type == GEN_DNS) {
      const ASN1_STRING* s = n->d.dNSName;
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                         static_cast<std::size_t>(ASN1_STRING_length(s))));
    } else if (n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = n->d.iPAddress;
      char buf[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(s);
      int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
      if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(s), buf, sizeof buf)) {
        out.push_back(std::string("IP:") + buf);
      }
    }
  }
  return out;
}

}  // namespace castor::api
