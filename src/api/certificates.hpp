// Self-signed TLS material for `castor serve` without --tls-cert: a one-off CA and a server
// certificate it signs (localhost, the host name, 127.0.0.1, ::1) in DATA/tls/, made with OpenSSL's
// libcrypto. The CA's private key is never written anywhere, so the CA can sign nothing else.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace castor::api {

struct CertificateFiles {
  std::filesystem::path ca;    // DATA/tls/ca.pem: what clients trust (curl --cacert)
  std::filesystem::path cert;  // DATA/tls/server.pem
  std::filesystem::path key;   // DATA/tls/server.key (0600)
  bool generated = false;      // true when made by this call
  std::string reason;          // why they were (re)generated, for the log
};

struct CertificateRequest {
  std::vector<std::string> dns_names;  // e.g. {"localhost", "myhost"}
  std::vector<std::string> ips;        // e.g. {"127.0.0.1", "::1"}
  // Regenerate when the server certificate expires sooner than this.
  std::chrono::hours renew_before{24 * 30};
};

// The names for this machine: localhost, the host name (if any), 127.0.0.1 and ::1.
CertificateRequest default_certificate_request();

// Reuses DATA/tls/ when its certificate is valid, covers every requested name and matches its key;
// otherwise generates a new CA and server certificate there.
Result<CertificateFiles> ensure_certificates(const std::filesystem::path& dir,
                                             const CertificateRequest& request);

// Checks that a user-supplied PEM certificate and key can be read and belong together.
Status check_certificate_pair(const std::filesystem::path& cert, const std::filesystem::path& key);

// Subject alternative names of the first certificate in a PEM file, as "DNS:x" and "IP:y".
Result<std::vector<std::string>> certificate_names(const std::filesystem::path& pem);

}  // namespace castor::api
