#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>

#include "api/certificates.hpp"
#include "test_dir.hpp"

namespace castor::api {
namespace {

CertificateRequest request_for(std::vector<std::string> dns) {
  CertificateRequest r;
  r.dns_names = std::move(dns);
  r.ips = {"127.0.0.1", "::1"};
  return r;
}

X509* load(const std::filesystem::path& p) {
  FILE* f = std::fopen(p.c_str(), "r");
  if (f == nullptr) return nullptr;
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return x;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Certificates, GeneratesCaAndServerCertWithAllNames) {
  castor::testing::TempDir dir;
  auto files = ensure_certificates(dir.path() / "tls", request_for({"localhost", "plant-host"}));
  ASSERT_TRUE(files.is_ok()) << files.status().to_string();
  EXPECT_TRUE(files->generated);
  auto names = certificate_names(files->cert);
  ASSERT_TRUE(names.is_ok());
  EXPECT_TRUE(has(*names, "DNS:localhost"));
  EXPECT_TRUE(has(*names, "DNS:plant-host"));
  EXPECT_TRUE(has(*names, "IP:127.0.0.1"));
  EXPECT_TRUE(has(*names, "IP:::1"));

  struct stat st {};
  ASSERT_EQ(::stat(files->key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "tls" / "ca.key"));

  // The server certificate chains to the CA and is valid for serverAuth on "localhost".
  X509* ca = load(files->ca);
  X509* cert = load(files->cert);
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(cert, nullptr);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set1_host(param, "localhost", 0);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  EXPECT_EQ(X509_verify_cert(ctx), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(cert);
  X509_free(ca);
}

TEST(Certificates, ReusesValidFilesAndRegeneratesForNewNames) {
  castor::testing::TempDir dir;
  auto first = ensure_certificates(dir.path(), request_for({"localhost"}));
  ASSERT_TRUE(first.is_ok());
  auto again = ensure_certificates(dir.path(), request_for({"localhost"}));
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(again->generated);
  auto renamed = ensure_certificates(dir.path(), request_for({"localhost", "new-host"}));
  ASSERT_TRUE(renamed.is_ok());
  EXPECT_TRUE(renamed->generated);
  EXPECT_NE(renamed->reason.find("new-host"), std::string::npos);
  std::filesystem::remove(dir.path() / "server.key");
  auto repaired = ensure_certificates(dir.path(), request_for({"localhost"}));
  ASSERT_TRUE(repaired.is_ok());
  EXPECT_TRUE(repaired->generated);
}

TEST(Certificates, ChecksUserSuppliedPairs) {
  castor::testing::TempDir a, b;
  auto one = ensure_certificates(a.path(), request_for({"localhost"}));
  auto two = ensure_certificates(b.path(), request_for({"localhost"}));
  ASSERT_TRUE(one.is_ok() && two.is_ok());
  EXPECT_TRUE(check_certificate_pair(one->cert, one->key).is_ok());
  Status mismatch = check_certificate_pair(one->cert, two->key);
  EXPECT_FALSE(mismatch.is_ok());
  EXPECT_NE(mismatch.message().find("does not belong"), std::string::npos);
  EXPECT_FALSE(check_certificate_pair(a.path() / "missing.pem", one->key).is_ok());
}

TEST(Certificates, DefaultRequestNamesLoopback) {
  auto r = default_certificate_request();
  EXPECT_EQ(r.dns_names.front(), "localhost");
  EXPECT_TRUE(has(r.ips, "127.0.0.1"));
  EXPECT_TRUE(has(r.ips, "::1"));
}

}  // namespace
}  // namespace castor::api
