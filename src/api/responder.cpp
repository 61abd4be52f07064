#include "api/responder.hpp"

#include "api/error.hpp"
#include "common/log.hpp"

namespace castor::api {

HttpResponse Responder::State::unanswered() {
  log::error("handler dropped its request without a response; sending 500");
  return error_response(500, "InternalServerError",
                        "The server finished the request without an answer. This is a bug in "
                        "Castor; please report it with the request's trace id.");
}

Responder::Responder(Completion completion)
    : state_(std::make_shared<StateOf<Completion>>(std::move(completion))) {}

void Responder::respond(HttpResponse response) const {
  if (!state_) return;
  if (state_->done.exchange(true)) {
    log::error("handler responded twice to one request; the second response was dropped",
               {{"status", response.status}});
    return;
  }
  state_->complete(std::move(response));
}

void Responder::fail(int status, std::string_view code, std::string_view message) const {
  respond(error_response(status, code, message));
}

void Responder::fail(const Status& status) const {
  respond(error_response(status));
}

void Responder::detach() const noexcept {
  if (state_) state_->done.store(true);
}

bool Responder::responded() const noexcept {
  return state_ && state_->done.load(std::memory_order_acquire);
}

}  // namespace castor::api
