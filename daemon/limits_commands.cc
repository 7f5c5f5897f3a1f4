// The `limits` command of the control protocol: show the transfer limits,
// or change their runtime overrides (limits.h, limits_control.h).
#include "commands.h"
#include "limits_control.h"

namespace gs::daemon {

void Commands::limits(const Json& args, Reply& reply) {
  if (!limits_) return reply(make_error("internal", "limits are not available in this daemon"));
  reply(limits_->request(args));
}

}  // namespace gs::daemon
