#ifndef LIFTOFF_SAGEMAKER_IMPL_TARGET_IPP
#define LIFTOFF_SAGEMAKER_IMPL_TARGET_IPP

#include <liftoff/sagemaker/target.hpp>
#include <liftoff/sagemaker/impl/training_job.ipp>

#include <liftoff/aws/sts.hpp>
#include <liftoff/net/endpoint.hpp>
#include <liftoff/detail/run_record.hpp>

#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <thread>

namespace liftoff {

namespace detail {

inline constexpr std::string_view sagemaker_api_version = "2017-07-24";
inline constexpr int sagemaker_max_attempts = 10;

/// Whether a DescribeTrainingJob failure means "no such job" (SageMaker says so with a ValidationException).
LIFTOFF_DECL bool is_missing_job(diagnostic const& d) {
  if (d.code == make_error_code(error::not_found)) return true;
  if (d.code != make_error_code(error::invalid_spec)) return false;
  std::string lower = d.message;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.find("not found") != std::string::npos || lower.find("does not exist") != std::string::npos;
}

/// What a SageMaker run's handle shares with its watcher thread.
struct sagemaker_run_state : run_record, std::enable_shared_from_this<sagemaker_run_state> {
  std::optional<aws::json_client> sm;    ///< empty for a dry run
  std::optional<aws::json_client> cw;  ///< CloudWatch Logs
  std::string name;
  std::string region;
  std::chrono::milliseconds poll_min{0}, poll_max{0}, log_poll{0};

  std::mutex wm;  ///< guards everything below
  std::condition_variable wcv;  ///< wakes the watcher (a stop was asked for)
  bool stop_requested = false;
  bool wake = false;
  bool ended = false;  ///< the final status is decided (published or about to be)
  std::size_t skip_lines = 0;  ///< output lines still to keep without passing to on_log (an attached run)
  std::map<std::string, std::string> stream_tokens;  ///< log stream → the token to read on from
  std::string last_log_error;
  // The watcher's own: the job's log streams, when to list them again, lines read so far.
  std::vector<std::string> known_streams;
  std::chrono::steady_clock::time_point next_listing{};
  std::size_t lines_seen = 0;
  std::thread watcher;

  ~sagemaker_run_state() {
    if (watcher.joinable()) watcher.detach();
  }

  void system_line(std::string text) { add_line(log_line{log_stream::system, std::move(text)}); }

  void output_line(std::string text) {
    log_line l{log_stream::out, std::move(text)};
    bool skip = false;
    {
      std::lock_guard lock(wm);
      if (skip_lines > 0) {
        --skip_lines;
        skip = true;
      }
    }
    if (!skip) {
      add_line(std::move(l));
      return;
    }
    std::lock_guard lock(m);  // delivered before: kept, not passed on again
    logs.push_back(std::move(l));
    while (logs.size() > max_lines) logs.pop_front();
  }

  /// A non-terminal state change, reported once.
  void move_to(run_status const& s) {
    {
      std::lock_guard lock(m);
      if (status.terminal() || status.state == s.state) return;
      status = s;
    }
    if (on_status) try {
        on_status(s);
      } catch (...) {
      }
  }

  /** Reads the job's log streams from where it left each: lists the streams
      (DescribeLogStreams with the job's prefix) while none is known, then
      once a minute (an instance joining late) and at the end, and reads each
      with GetLogEvents until its forward token repeats.
      @return whether any new line arrived. */
  bool read_logs(bool final_pass = false) {
    if (!cw) return false;
    auto const now = std::chrono::steady_clock::now();
    if (final_pass || known_streams.empty() || now >= next_listing) {
      auto listed = list_streams();
      if (!listed) {
        log_error(listed.error());
        return false;
      }
      known_streams = std::move(*listed);
      next_listing = now + std::chrono::minutes(1);
    }
    std::size_t const before = lines_seen;
    for (auto const& stream : known_streams)
      if (!read_stream(stream)) return lines_seen != before;
    std::lock_guard lock(wm);
    last_log_error.clear();
    return lines_seen != before;
  }

  result<std::vector<std::string>> list_streams() {
    std::vector<std::string> streams;
    std::string next;
    for (int page = 0; page < 100; ++page) {
      boost::json::object in{{"logGroupName", sagemaker::log_group}, {"logStreamNamePrefix", name + "/"}};
      if (!next.empty()) in["nextToken"] = next;
      auto listed = cw->call("DescribeLogStreams", in);
      if (!listed) return listed.error();
      next.clear();
      if (auto const* o = listed->if_object()) {
        if (auto const* ls = o->if_contains("logStreams"); ls && ls->is_array())
          for (auto const& s : ls->get_array())
            if (auto const* n = s.is_object() ? s.get_object().if_contains("logStreamName") : nullptr;
                n && n->is_string())
              streams.emplace_back(n->get_string());
        if (auto const* t = o->if_contains("nextToken"); t && t->is_string()) next = t->get_string();
      }
      if (next.empty()) break;
    }
    std::sort(streams.begin(), streams.end());
    return streams;
  }

  /// Reads one stream on from its token; false after an error (logged).
  bool read_stream(std::string const& stream) {
    std::string token;
    {
      std::lock_guard lock(wm);
      token = stream_tokens[stream];
    }
    for (int page = 0; page < 10000; ++page) {
      boost::json::object in{{"logGroupName", sagemaker::log_group}, {"logStreamName", stream},
                             {"startFromHead", true}};
      if (!token.empty()) in["nextToken"] = token;
      auto got = cw->call("GetLogEvents", in);
      if (!got) {
        log_error(got.error());
        return false;
      }
      auto const* o = got->if_object();
      if (!o) break;
      if (auto const* events = o->if_contains("events"); events && events->is_array())
        for (auto const& e : events->get_array()) {
          if (!e.is_object()) continue;
          auto const* msg = e.get_object().if_contains("message");
          if (!msg || !msg->is_string()) continue;
          std::string text(msg->get_string());
          while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
          output_line(std::move(text));
          ++lines_seen;
        }
      std::string forward;
      if (auto const* f = o->if_contains("nextForwardToken"); f && f->is_string()) forward = f->get_string();
      // The end of what the stream has now: the token comes back unchanged.
      bool const at_end = forward.empty() || forward == token;
      if (!forward.empty()) token = forward;
      if (at_end) break;
    }
    std::lock_guard lock(wm);
    stream_tokens[stream] = token;
    return true;
  }

  void log_error(diagnostic const& d) {
    // The group does not exist until the job's first line.
    if (d.code == make_error_code(error::not_found)) return;
    std::string text = "cannot read the training job's logs from CloudWatch Logs: " + d.what();
    {
      std::lock_guard lock(wm);
      if (text == last_log_error) return;
      last_log_error = text;
    }
    system_line(std::move(text));
  }

  /// Ends the run with `s` unless it has ended already.
  void finish(run_status s) {
    {
      std::lock_guard lock(wm);
      if (ended) return;
      ended = true;
    }
    publish(s);
  }

  bool has_ended() {
    std::lock_guard lock(wm);
    return ended;
  }

  /// Follows the job until it ends; runs on `watcher`.
  void watch() {
    using clock = std::chrono::steady_clock;
    auto interval = poll_min;
    auto next_describe = clock::now();
    auto next_logs = clock::now();
    auto log_interval = log_poll;
    std::string last_status, last_secondary, last_message, last_transition;
    std::size_t transitions_seen = 0;
    int failures = 0;
    std::optional<run_status> final_status;
    while (!final_status) {
      if (has_ended()) return;  // cancel() gave up waiting and ended the run
      auto now = clock::now();
      if (now >= next_describe) {
        auto d = sm->call("DescribeTrainingJob", boost::json::object{{"TrainingJobName", name}});
        bool changed = false;
        if (!d) {
          if (is_missing_job(d.error())) {
            final_status = run_status(run_state::failed, std::nullopt, failure_stage::run,
                                      "the SageMaker training job " + name + " is gone: " + d.error().what());
            break;
          }
          if (++failures == 1 || failures % 5 == 0)
            system_line("cannot describe the training job " + name + " (will try again): " + d.error().what());
          if (failures >= 20) {
            final_status = run_status(
                run_state::failed, std::nullopt, failure_stage::run,
                "lost track of the SageMaker training job " + name + " in " + region + ": " + d.error().what() +
                    "; it may still be running (aws sagemaker describe-training-job --training-job-name " + name +
                    ")");
            break;
          }
        } else if (auto const* o = d->if_object()) {
          failures = 0;
          auto const view = sagemaker::read_description(*o);
          if (auto const* t = o->if_contains("SecondaryStatusTransitions"); t && t->is_array()) {
            auto const& all = t->get_array();
            auto text_of = [](boost::json::value const& v) {
              if (!v.is_object()) return std::string();
              auto const& tr = v.get_object();
              std::string text = "SageMaker: " + sagemaker::detail::string_member(tr, "Status");
              if (auto msg = sagemaker::detail::string_member(tr, "StatusMessage"); !msg.empty()) text += ": " + msg;
              return text;
            };
            if (all.size() < transitions_seen) transitions_seen = 0;
            // The current transition's message changes while its status stays (download progress, …).
            if (all.size() == transitions_seen && !all.empty()) {
              if (auto text = text_of(all.back()); text != last_transition) {
                last_transition = text;
                system_line(std::move(text));
              }
            }
            for (std::size_t i = transitions_seen; i < all.size(); ++i) {
              auto text = text_of(all[i]);
              if (text.empty()) continue;
              last_transition = text;
              system_line(std::move(text));
            }
            transitions_seen = all.size();
          } else if (view.secondary_status != last_secondary && !view.secondary_status.empty()) {
            system_line("SageMaker: " + view.secondary_status +
                        (view.status_message.empty() ? std::string() : ": " + view.status_message));
          }
          changed = view.status != last_status || view.secondary_status != last_secondary ||
                    view.status_message != last_message;
          last_status = view.status;
          last_secondary = view.secondary_status;
          last_message = view.status_message;
          bool stopping;
          {
            std::lock_guard lock(wm);
            stopping = stop_requested;
          }
          auto const s = sagemaker::status_of(view, stopping);
          if (s.terminal()) final_status = s;
          else if (view.status != "Stopping") move_to(s);
        }
        interval = changed ? poll_min : std::min(interval * 2, poll_max);
        next_describe = clock::now() + interval;
      }
      if (final_status) break;
      if (clock::now() >= next_logs) {
        // Quiet logs are read less often, down to one read in five log_poll periods.
        log_interval = read_logs() ? log_poll : std::min(log_interval * 2, log_poll * 5);
        next_logs = clock::now() + log_interval;
      }
      std::unique_lock lock(wm);
      wcv.wait_until(lock, std::min(next_describe, next_logs), [&] { return wake || ended; });
      if (wake) {
        wake = false;
        next_describe = clock::now();
        interval = poll_min;
      }
    }
    read_logs(true);  // to the end: the job has ended
    finish(*final_status);
  }

  void start_watching() {
    watcher = std::thread([self = shared_from_this()] { self->watch(); });
  }
};

/// A service model, loaded once per file.
LIFTOFF_DECL result<std::shared_ptr<aws::service_model const>> load_sagemaker_model(std::filesystem::path const& file) {
  static std::mutex m;
  static std::map<std::string, std::shared_ptr<aws::service_model const>> cache;
  std::string const key = file.string();
  {
    std::lock_guard lock(m);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  auto loaded = aws::service_model::load(file);
  if (!loaded) return loaded.error();
  auto shared = std::make_shared<aws::service_model const>(std::move(*loaded));
  std::lock_guard lock(m);
  return cache.emplace(key, std::move(shared)).first->second;
}

/// The dry-run form of a request: {"method","url","headers","body"}, secrets redacted.
LIFTOFF_DECL result<boost::json::object> describe_sts_request(std::string const& url, std::string const& region,
                                                        aws::credentials_provider const& provider) {
  auto ep = net::parse_endpoint(url);
  if (!ep) return ep.error();
  aws::http_message msg;
  msg.method = "POST";
  msg.target = ep->base_path + "/";
  msg.headers = {{"Host", ep->host_header()},
                 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  msg.body = "Action=GetCallerIdentity&Version=2011-06-15";
  auto c = provider();
  if (!c) return c.error();
  aws::signing_params p;
  p.region = region;
  p.service = aws::services::sts().signing_name;
  auto signed_ = aws::sign_headers(msg, *c, p);
  if (!signed_) return signed_.error();
  boost::json::object headers;
  for (auto const& [k, v] : msg.headers) {
    if (boost::beast::iequals(k, "Authorization")) headers[k] = aws::redact_authorization(v);
    else if (boost::beast::iequals(k, "X-Amz-Security-Token")) headers[k] = "<redacted>";
    else headers[k] = v;
  }
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return boost::json::object{{"method", "POST"}, {"url", base + "/"}, {"headers", std::move(headers)},
                             {"body", msg.body}};
}

/// What `start`, `validate` and `attach` find out from the configuration before contacting AWS.
struct sagemaker_setup {
  std::shared_ptr<aws::service_model const> model;  ///< null: no client-side validation
  sagemaker::job_settings settings;
  aws::credentials_options aws;
  std::string model_note;  ///< why there is no model, for a log line
};

}  // namespace detail

LIFTOFF_DECL std::string sagemaker_target::run::id() const { return state_->id; }
LIFTOFF_DECL run_status sagemaker_target::run::status() const { return state_->current(); }
LIFTOFF_DECL run_status sagemaker_target::run::wait() { return state_->wait_terminal(); }
LIFTOFF_DECL std::vector<log_line> sagemaker_target::run::logs() const { return state_->kept_logs(); }
LIFTOFF_DECL std::string sagemaker_target::run::name() const { return state_->name; }
LIFTOFF_DECL std::string sagemaker_target::run::region() const { return state_->region; }

LIFTOFF_DECL void sagemaker_target::run::cancel(std::chrono::milliseconds grace) {
  auto& s = *state_;
  if (!s.sm || s.current().terminal()) return;
  {
    std::lock_guard lock(s.wm);
    if (s.ended) return;
    s.stop_requested = true;
  }
  auto stopped = s.sm->call("StopTrainingJob", boost::json::object{{"TrainingJobName", s.name}});
  // A job that has just ended cannot be stopped (ValidationException); the watcher sees how it ended.
  if (!stopped && stopped.error().code != make_error_code(error::invalid_spec))
    s.system_line("cannot stop the training job " + s.name + ": " + stopped.error().what());
  {
    std::lock_guard lock(s.wm);
    s.wake = true;
  }
  s.wcv.notify_all();
  std::unique_lock lock(s.m);
  bool const ended = s.cv.wait_for(lock, grace + std::chrono::minutes(2), [&] { return s.status.terminal(); });
  lock.unlock();
  if (!ended) {
    s.finish(run_status(run_state::stopped, std::nullopt, failure_stage::none,
                        "SageMaker did not confirm that training job " + s.name + " stopped within the grace period"));
    s.wcv.notify_all();
  }
}

namespace detail {

/// Reads the configuration: the model (unless not wanted), `resource_args.sagemaker`, the credentials options.
LIFTOFF_DECL result<sagemaker_setup> sagemaker_prepare(sagemaker_target const& t, launch_spec const& spec,
                                                 bool want_model) {
  sagemaker_setup out;
  out.aws = t.aws;
  if (want_model) {
    std::optional<std::filesystem::path> file;
    if (!t.model.empty()) file = t.model;
    else file = aws::find_model(t.aws, "sagemaker", sagemaker_api_version);
    if (file) {
      auto loaded = load_sagemaker_model(*file);
      if (loaded) out.model = std::move(*loaded);
      else if (!t.model.empty()) return loaded.error();  // the one the program named must load
      else out.model_note = "the SageMaker service model did not load (" + loaded.error().what() + ")";
    } else {
      out.model_note = "no SageMaker service model (botocore's data directory or LIFTOFF_AWS_MODELS) was found";
    }
  }
  auto settings = sagemaker::parse_sagemaker_args(spec.args_for("sagemaker"), out.model.get());
  if (!settings) return settings.error();
  out.settings = std::move(*settings);
  if (!out.settings.profile.empty()) out.aws.profile = out.settings.profile;
  return out;
}

/// The request checked as far as it can be without AWS: a role name's account is a stand-in.
LIFTOFF_DECL result<void> sagemaker_check(launch_spec const& spec, sagemaker_setup const& setup, std::string image,
                                    bool validate_model) {
  sagemaker::job_inputs in;
  in.image = image.empty() ? "123456789012.dkr.ecr.us-east-1.amazonaws.com/liftoff/validate:latest" : std::move(image);
  in.account = "000000000000";
  auto req = sagemaker::make_create_training_job(spec, setup.settings, in, validate_model ? setup.model.get() : nullptr);
  if (!req) return req.error();
  return {};
}

LIFTOFF_DECL std::string partition_of(std::string_view arn) {
  // "arn:aws-cn:sts::123456789012:assumed-role/…"
  if (!arn.starts_with("arn:")) return "aws";
  auto rest = arn.substr(4);
  auto colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0) return "aws";
  return std::string(rest.substr(0, colon));
}

LIFTOFF_DECL bool role_needs_account(sagemaker::job_settings const& s) {
  auto const* role = s.request.if_contains("RoleArn");
  return role && role->is_string() && !role->get_string().starts_with("arn:");
}

}  // namespace detail

LIFTOFF_DECL result<void> sagemaker_target::validate(launch_spec const& spec) const {
  auto setup = detail::sagemaker_prepare(*this, spec, validate_model);
  if (!setup) return setup.error();
  return detail::sagemaker_check(spec, *setup, {}, validate_model);
}

LIFTOFF_DECL auto sagemaker_target::start(artifact const& in, launch_spec const& spec, launch_options const& options) const
    -> result<run> {
  if (!accepts(in.kind) || in.image.empty())
    return diagnostic(error::invalid_spec, "sagemaker runs an image from ECR, but got a " +
                                               std::string(to_string(in.kind)) +
                                               ": push it with the ecr_push transport");
  auto setup = detail::sagemaker_prepare(*this, spec, validate_model);
  if (!setup) return setup.error();
  auto const* checking_model = validate_model ? setup->model.get() : nullptr;
  // Everything that can be checked here is, before any request is sent.
  if (auto checked = detail::sagemaker_check(spec, *setup, in.image, validate_model); !checked) return checked.error();
  auto region_found = aws::resolve_region(setup->aws, region.empty() ? setup->settings.region : region);
  if (!region_found) return region_found.error();
  std::string const where = *region_found;
  auto provider = credentials ? credentials : aws::shared_credentials_chain(setup->aws);

  auto state = std::make_shared<detail::sagemaker_run_state>();
  state->id = spec.run_id;
  state->max_lines = max_log_lines;
  state->attach(options, in);
  state->region = where;
  state->poll_min = poll_min;
  state->poll_max = std::max(poll_max, poll_min);
  state->log_poll = log_poll;
  if (validate_model && !setup->model)
    state->system_line("not validating the CreateTrainingJob request before sending it: " + setup->model_note +
                       "; SageMaker validates it");

  auto sm_client = aws::json_client::for_region(aws::services::sagemaker(), where, setup->aws, provider, client, retry);
  sagemaker::job_inputs inputs;
  inputs.image = in.image;
  inputs.environment = sagemaker::detail::job_environment(spec, options, secret_names);
  bool const needs_account = detail::role_needs_account(setup->settings);
  // The request in wire form (the model converts timestamps and blobs; without one, it is sent as it is).
  auto wire = [&](boost::json::object const& req) -> result<boost::json::value> {
    if (!setup->model) return boost::json::value(req);
    return setup->model->serialize(setup->model->input_shape("CreateTrainingJob"), req);
  };

  if (options.dry_run()) {
    auto emit = [&](boost::json::object request) {
      options.emit({{"stage", "run"}, {"action", "aws api"}, {"request", std::move(request)}});
    };
    if (needs_account) {
      // The account is what GetCallerIdentity would say; the request shows where it goes.
      auto sts = detail::describe_sts_request(aws::endpoint_url(setup->aws, aws::services::sts(), where), where,
                                              provider);
      if (!sts) return sts.error();
      emit(std::move(*sts));
      inputs.account = "<account>";
    }
    // Checked above with a stand-in account; "<account>" would not match the model's pattern.
    auto req = sagemaker::make_create_training_job(spec, setup->settings, inputs, nullptr);
    if (!req) return req.error();
    state->name = sagemaker::training_job_name(spec);
    auto body = wire(*req);
    if (!body) return body.error();
    for (auto const& [op, input] :
         std::vector<std::pair<std::string, boost::json::value>>{
             {"CreateTrainingJob", std::move(*body)},
             {"DescribeTrainingJob", boost::json::object{{"TrainingJobName", state->name}}}}) {
      auto described = sm_client.describe_request(op, input);
      if (!described) return described.error();
      emit(std::move(*described));
    }
    auto logs_client = aws::json_client::for_region(aws::services::logs(), where, setup->aws, provider, client, retry);
    auto streams = logs_client.describe_request(
        "DescribeLogStreams",
        boost::json::object{{"logGroupName", sagemaker::log_group}, {"logStreamNamePrefix", state->name + "/"}});
    if (!streams) return streams.error();
    emit(std::move(*streams));
    state->status = run_status(run_state::finished, 0);
    state->ended = true;
    return run(state);
  }

  if (needs_account) {
    auto sts = aws::sts_client::for_region(where, setup->aws, provider, client);
    auto who = sts.get_caller_identity();
    if (!who) return who.error();
    inputs.account = who->account;
    inputs.partition = detail::partition_of(who->arn);
  }

  bool followed = false;
  for (int attempt = 1;; ++attempt) {
    if (attempt > detail::sagemaker_max_attempts)
      return diagnostic(error::already_exists,
                        "the training job names of run " + spec.run_id + " are taken up to attempt " +
                            std::to_string(detail::sagemaker_max_attempts) +
                            " (" + sagemaker::training_job_name(spec, detail::sagemaker_max_attempts) +
                            "); start it again under a new run id");
    inputs.attempt = attempt;
    auto req = sagemaker::make_create_training_job(spec, setup->settings, inputs, checking_model);
    if (!req) return req.error();
    std::string const name(req->at("TrainingJobName").as_string());
    auto body = wire(*req);
    if (!body) return body.error();
    auto created = sm_client.call("CreateTrainingJob", *body);
    if (created) {
      state->name = name;
      break;
    }
    if (created.error().code != make_error_code(error::already_exists)) return created.error();
    // The name is taken: by an earlier attempt of this run (a preempted run started again), or by another run.
    auto existing = sm_client.call("DescribeTrainingJob", boost::json::object{{"TrainingJobName", name}});
    if (!existing) return existing.error();
    auto const view = existing->is_object() ? sagemaker::read_description(existing->get_object()) : sagemaker::job_view{};
    // The name carries the run id; a description without the environment cannot say otherwise.
    if (!view.run_id.empty() && view.run_id != spec.run_id)
      return diagnostic(error::already_exists,
                        "the training job name " + name + " is taken by a job that is not run " + spec.run_id +
                            "'s" + (view.run_id.empty() ? std::string() : " (it is run " + view.run_id + "'s)") +
                            "; give the run another name or id");
    if (view.status == "InProgress" || view.status == "Stopping") {
      state->name = name;
      followed = true;
      break;
    }
  }

  {
    std::lock_guard lock(state->m);
    state->status = run_status(run_state::starting);
  }
  options.report(run_status(run_state::starting));
  state->system_line((followed ? "following the training job " : "created the training job ") + state->name +
                     " in " + where);
  state->sm = std::move(sm_client);
  state->cw = aws::json_client::for_region(aws::services::logs(), where, setup->aws, provider, client, retry);
  state->start_watching();
  return run(state);
}

LIFTOFF_DECL auto sagemaker_target::attach(launch_spec const& spec, launch_options const& options,
                                     std::size_t skip_lines) const -> result<std::optional<run>> {
  if (spec.run_id.empty())
    return diagnostic(error::invalid_spec, "sagemaker_target::attach: the launch spec has no run id to look for");
  auto setup = detail::sagemaker_prepare(*this, spec, false);
  if (!setup) return setup.error();
  auto region_found = aws::resolve_region(setup->aws, region.empty() ? setup->settings.region : region);
  if (!region_found) return region_found.error();
  std::string const where = *region_found;
  auto provider = credentials ? credentials : aws::shared_credentials_chain(setup->aws);
  auto sm_client = aws::json_client::for_region(aws::services::sagemaker(), where, setup->aws, provider, client, retry);

  std::string found;
  for (int attempt = 1; attempt <= detail::sagemaker_max_attempts; ++attempt) {
    auto const name = sagemaker::training_job_name(spec, attempt);
    auto d = sm_client.call("DescribeTrainingJob", boost::json::object{{"TrainingJobName", name}});
    if (!d) {
      if (detail::is_missing_job(d.error())) break;  // attempts are made in order: none after a missing one
      return d.error();
    }
    found = name;
  }
  if (found.empty()) return std::optional<run>();

  auto state = std::make_shared<detail::sagemaker_run_state>();
  state->id = spec.run_id;
  state->max_lines = max_log_lines;
  state->on_log = options.on_log;
  state->on_status = options.on_status;
  state->region = where;
  state->name = found;
  state->skip_lines = skip_lines;
  state->poll_min = poll_min;
  state->poll_max = std::max(poll_max, poll_min);
  state->log_poll = log_poll;
  state->status = run_status(run_state::starting);
  state->sm = std::move(sm_client);
  state->cw = aws::json_client::for_region(aws::services::logs(), where, setup->aws, provider, client, retry);
  state->system_line("found the training job " + found + " of run " + spec.run_id + " again in " + where);
  state->start_watching();
  return std::optional<run>(run(state));
}

}  // namespace liftoff

#endif
