// The webhook endpoint of event routes: POSTs each CloudEvent (structured mode,
// application/cloudevents+json) to an http:// or https:// URL over a kept-alive Boost.Beast
// connection and reports 2xx as delivered. It never retries by itself (delivery does), never
// follows redirects, and never waits longer than the endpoint's timeout per attempt.
#pragma once

#include <memory>

#include "common/config.hpp"
#include "common/status.hpp"
#include "rules/endpoint_sender.hpp"

namespace castor::api {

// Fails with a sentence when the URL or ca_file is unusable.
Result<std::unique_ptr<rules::EndpointSender>> make_webhook_sender(const EndpointConfig& endpoint);

}  // namespace castor::api
