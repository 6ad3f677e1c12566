#ifndef LIFTOFF_TRANSPORT_IMPL_LOCAL_DAEMON_IPP
#define LIFTOFF_TRANSPORT_IMPL_LOCAL_DAEMON_IPP

#include <liftoff/transport/local_daemon.hpp>

namespace liftoff {

LIFTOFF_DECL result<artifact> local_daemon::deliver(artifact const& in, launch_spec const&, launch_options const&) const {
  return in;
}

}  // namespace liftoff

#endif
