#ifndef LIFTOFF_CORE_IMPL_LAUNCHER_HPP
#define LIFTOFF_CORE_IMPL_LAUNCHER_HPP

namespace liftoff {

template <class Source, class Builder, class Transport, class Target>
result<void> launcher<Source, Builder, Transport, Target>::validate(launch_spec const& spec) const {
  if (kind_of(spec.source) != Source::kind)
    return diagnostic(error::invalid_spec, "this launcher runs " + std::string(to_string(Source::kind)) +
                                               " sources, but the spec's source is " +
                                               std::string(to_string(kind_of(spec.source))));
  for (auto r : {detail::validate_with(source_, spec), detail::validate_with(builder_, spec),
                 detail::validate_with(transport_, spec), detail::validate_with(target_, spec)})
    if (!r) return r;
  return {};
}

template <class Source, class Builder, class Transport, class Target>
auto launcher<Source, Builder, Transport, Target>::try_launch(launch_spec spec, launch_options const& options)
    -> result<run_type> {
  ensure_run_id(spec);
  if (auto v = validate(spec); !v) return v.error();

  options.report(run_status{run_state::building});
  auto fetched = source_.fetch(spec, options);
  if (!fetched) return detail::at_stage(std::move(fetched).error(), failure_stage::source);

  std::optional<artifact> found;
  if constexpr (declares_hook<Builder>(hook::plan) && declares_hook<Transport>(hook::find)) {
    if (!options.dry_run())
      if (auto planned = builder_.planned(*fetched, spec); planned && *planned)
        if (auto at_destination = transport_.find(**planned, spec, options); at_destination && *at_destination)
          found = std::move(**at_destination);
  }

  result<artifact> delivered = found ? result<artifact>(std::move(*found)) : [&]() -> result<artifact> {
    auto built = builder_.build(*fetched, spec, options);
    if (!built) return detail::at_stage(std::move(built).error(), failure_stage::build);
    auto out = transport_.deliver(*built, spec, options);
    if (!out) return detail::at_stage(std::move(out).error(), failure_stage::push);
    return out;
  }();
  if (!delivered) return delivered.error();

  detail::prepare_spec(spec, *delivered);
  options.report(run_status{run_state::starting});
  auto started = target_.start(*delivered, spec, options);
  if (!started) return detail::at_stage(std::move(started).error(), failure_stage::run);
  return started;
}

}  // namespace liftoff

#endif
