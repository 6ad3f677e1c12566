#include <liftoff/core/run_status.hpp>

#include <catch2/catch.hpp>

TEST_CASE("run states round-trip through their names", "[core]") {
  using liftoff::run_state;
  for (auto s : {run_state::queued, run_state::leased, run_state::building, run_state::starting, run_state::running,
                 run_state::finished, run_state::failed, run_state::stopped, run_state::crashed, run_state::preempted})
    CHECK(liftoff::run_state_from_string(liftoff::to_string(s)) == s);
  CHECK_FALSE(liftoff::run_state_from_string("done").has_value());
}

TEST_CASE("only ended states are terminal", "[core]") {
  using liftoff::run_state;
  CHECK_FALSE(liftoff::is_terminal(run_state::running));
  CHECK_FALSE(liftoff::is_terminal(run_state::queued));
  CHECK(liftoff::is_terminal(run_state::finished));
  CHECK(liftoff::is_terminal(run_state::preempted));
  liftoff::run_status st{run_state::failed, 3, liftoff::failure_stage::run, "process exited with code 3"};
  CHECK(st.terminal());
  CHECK_FALSE(st.succeeded());
}
