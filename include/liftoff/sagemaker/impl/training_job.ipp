#ifndef LIFTOFF_SAGEMAKER_IMPL_TRAINING_JOB_IPP
#define LIFTOFF_SAGEMAKER_IMPL_TRAINING_JOB_IPP

#include <liftoff/sagemaker/training_job.hpp>

#include <liftoff/core/run_environment.hpp>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <set>

namespace liftoff::sagemaker {

namespace detail {

LIFTOFF_DECL std::string const& field_prefix() {
  static std::string const p = "resource_args.sagemaker";
  return p;
}

/// A top-level `CreateTrainingJob` member and the JSON kind it takes, for reading without a model.
struct member_kind {
  std::string_view name;
  std::string_view kind;  ///< "object", "array", "string", "bool"
};

/** The members of `CreateTrainingJobRequest` (service model 2017-07-24), so a
    config is checked for unknown keys and container types without the model. */
LIFTOFF_DECL std::vector<member_kind> const& create_training_job_members() {
  static std::vector<member_kind> const members = {
      {"TrainingJobName", "string"},
      {"HyperParameters", "object"},
      {"AlgorithmSpecification", "object"},
      {"RoleArn", "string"},
      {"InputDataConfig", "array"},
      {"OutputDataConfig", "object"},
      {"ResourceConfig", "object"},
      {"VpcConfig", "object"},
      {"StoppingCondition", "object"},
      {"Tags", "array"},
      {"EnableNetworkIsolation", "bool"},
      {"EnableInterContainerTrafficEncryption", "bool"},
      {"EnableManagedSpotTraining", "bool"},
      {"CheckpointConfig", "object"},
      {"DebugHookConfig", "object"},
      {"DebugRuleConfigurations", "array"},
      {"TensorBoardOutputConfig", "object"},
      {"ExperimentConfig", "object"},
      {"ProfilerConfig", "object"},
      {"ProfilerRuleConfigurations", "array"},
      {"Environment", "object"},
      {"RetryStrategy", "object"},
      {"RemoteDebugConfig", "object"},
      {"InfraCheckConfig", "object"},
      {"SessionChainingConfig", "object"},
      {"ServerlessJobConfig", "object"},
      {"MlflowConfig", "object"},
      {"ModelPackageConfig", "object"},
  };
  return members;
}

/// Members whose values are maps: their keys are the user's (variable names, hyperparameter names).
LIFTOFF_DECL bool is_map_member(std::string_view name) {
  static std::set<std::string_view> const maps = {"HyperParameters", "Environment",         "HookParameters",
                                                  "CollectionParameters", "RuleParameters", "ProfilingParameters"};
  return maps.contains(name);
}

/// "resource_config" and "ResourceConfig" alike: lower case, no underscores or dashes.
LIFTOFF_DECL std::string fold(std::string_view key) {
  std::string out;
  for (char c : key)
    if (c != '_' && c != '-') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/** "volume_size_in_gb" → "VolumeSizeInGB": each word capitalized, with the
    API's words that are not (acronyms, brand names). A key already in
    PascalCase is kept. */
LIFTOFF_DECL std::string pascal_case(std::string_view key) {
  static std::map<std::string, std::string, std::less<>> const words = {
      {"gb", "GB"}, {"tensorboard", "TensorBoard"}, {"hyperparameters", "HyperParameters"},
      {"sagemaker", "SageMaker"}};
  if (key.find('_') == std::string_view::npos && !key.empty() &&
      std::isupper(static_cast<unsigned char>(key.front())))
    return std::string(key);
  std::string out;
  std::size_t start = 0;
  while (start <= key.size()) {
    auto end = key.find('_', start);
    if (end == std::string_view::npos) end = key.size();
    std::string word(key.substr(start, end - start));
    std::string lower = word;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto it = words.find(lower); it != words.end()) out += it->second;
    else if (!word.empty()) {
      word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
      out += word;
    }
    start = end + 1;
  }
  return out;
}

LIFTOFF_DECL diagnostic wrong_type(std::string const& path, std::string_view member, std::string_view expected,
                             boost::json::value const& got) {
  std::string msg = path + ": expected " + std::string(expected) + ", got " + std::string(json_kind_name(got));
  if (!member.empty()) msg += " (the CreateTrainingJob member " + std::string(member) + ")";
  return diagnostic(error::invalid_spec, std::move(msg));
}

/// A hyperparameter value as the API wants it: a string (numbers and booleans written as JSON writes them).
LIFTOFF_DECL std::optional<std::string> hyperparameter_string(boost::json::value const& v) {
  if (auto const* s = v.if_string()) return std::string(*s);
  if (v.is_bool()) return std::string(v.get_bool() ? "true" : "false");
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) {
    // The shortest text that reads back as the same number ("0.5", not "5E-1").
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
    if (ec == std::errc()) return std::string(buf, end);
    return boost::json::serialize(v);
  }
  return std::nullopt;
}

/// Reads values without a model: keys renamed, maps kept, hyperparameters as strings.
LIFTOFF_DECL result<boost::json::value> convert_plain(boost::json::value const& v, std::string const& path,
                                                std::string const& member_path, bool is_map, bool hyper) {
  if (auto const* o = v.if_object()) {
    boost::json::object out;
    for (auto const& [k, child] : *o) {
      if (child.is_null()) continue;
      std::string const name = is_map ? std::string(k) : pascal_case(k);
      std::string const child_path = path + "." + std::string(k);
      std::string const child_member = member_path + "." + name;
      if (hyper) {
        auto s = hyperparameter_string(child);
        if (!s) return wrong_type(child_path, child_member, "a string, number or boolean", child);
        out[name] = *s;
        continue;
      }
      auto c = convert_plain(child, child_path, child_member, !is_map && is_map_member(name), false);
      if (!c) return c.error();
      out[name] = std::move(*c);
    }
    return boost::json::value(std::move(out));
  }
  if (auto const* a = v.if_array()) {
    boost::json::array out;
    for (std::size_t i = 0; i < a->size(); ++i) {
      auto c = convert_plain((*a)[i], path + "[" + std::to_string(i) + "]",
                             member_path + "[" + std::to_string(i) + "]", false, false);
      if (!c) return c.error();
      out.push_back(std::move(*c));
    }
    return boost::json::value(std::move(out));
  }
  return v;
}

/** Reads `v` as a value of shape `shape_name`: structure members matched by
    name ignoring case and underscores, map keys kept, each JSON type checked.
    Members the shape does not have keep their (PascalCased) name, for
    `validate_input` to name with the closest. */
LIFTOFF_DECL result<boost::json::value> convert_modeled(aws::service_model const& model, std::string_view shape_name,
                                                  boost::json::value const& v, std::string const& path,
                                                  std::string const& member_path, bool hyper) {
  auto const* shape = model.shape(shape_name);
  if (!shape) return v;
  auto type_of = [](boost::json::object const& s) -> std::string {
    if (auto const* t = s.if_contains("type"); t && t->is_string()) return std::string(t->get_string());
    return {};
  };
  auto shape_ref = [](boost::json::value const* ref) -> std::string {
    if (ref && ref->is_object())
      if (auto const* s = ref->get_object().if_contains("shape"); s && s->is_string())
        return std::string(s->get_string());
    return {};
  };
  std::string const type = type_of(*shape);
  if (type == "structure") {
    auto const* o = v.if_object();
    if (!o) return wrong_type(path, member_path, "an object", v);
    boost::json::object const* members = nullptr;
    if (auto const* m = shape->if_contains("members"); m && m->is_object()) members = &m->get_object();
    boost::json::object out;
    for (auto const& [k, child] : *o) {
      if (child.is_null()) continue;
      std::string name;
      boost::json::value const* ref = nullptr;
      if (members) {
        if (auto const* exact = members->if_contains(k)) {
          name = std::string(k);
          ref = exact;
        } else {
          auto const folded = fold(k);
          for (auto const& [mk, mv] : *members)
            if (fold(mk) == folded) {
              name = std::string(mk);
              ref = &mv;
              break;
            }
        }
      }
      std::string const child_path = path + "." + std::string(k);
      if (!ref) {
        name = pascal_case(k);
        out[name] = child;
        continue;
      }
      std::string const child_member = member_path.empty() ? name : member_path + "." + name;
      auto c = convert_modeled(model, shape_ref(ref), child, child_path, child_member,
                               member_path.empty() && name == "HyperParameters");
      if (!c) return c.error();
      out[name] = std::move(*c);
    }
    return boost::json::value(std::move(out));
  }
  if (type == "map") {
    auto const* o = v.if_object();
    if (!o) return wrong_type(path, member_path, "an object (a map)", v);
    std::string const value_shape = shape_ref(shape->if_contains("value"));
    boost::json::object out;
    for (auto const& [k, child] : *o) {
      std::string const child_path = path + "." + std::string(k);
      std::string const child_member = member_path + "." + std::string(k);
      if (hyper) {
        auto s = hyperparameter_string(child);
        if (!s) return wrong_type(child_path, child_member, "a string, number or boolean", child);
        out[k] = *s;
        continue;
      }
      auto c = convert_modeled(model, value_shape, child, child_path, child_member, false);
      if (!c) return c.error();
      out[k] = std::move(*c);
    }
    return boost::json::value(std::move(out));
  }
  if (type == "list") {
    auto const* a = v.if_array();
    if (!a) return wrong_type(path, member_path, "an array", v);
    std::string const member_shape = shape_ref(shape->if_contains("member"));
    boost::json::array out;
    for (std::size_t i = 0; i < a->size(); ++i) {
      auto const index = "[" + std::to_string(i) + "]";
      auto c = convert_modeled(model, member_shape, (*a)[i], path + index, member_path + index, false);
      if (!c) return c.error();
      out.push_back(std::move(*c));
    }
    return boost::json::value(std::move(out));
  }
  if (type == "string" || type == "blob") {
    if (!v.is_string()) return wrong_type(path, member_path, "a string", v);
    return v;
  }
  if (type == "integer" || type == "long") {
    if (v.is_int64() || v.is_uint64()) return v;
    // A whole double within int64's range (converting one outside it is undefined).
    if (v.is_double() && std::trunc(v.get_double()) == v.get_double() && v.get_double() >= -0x1p63 &&
        v.get_double() < 0x1p63)
      return boost::json::value(static_cast<std::int64_t>(v.get_double()));
    return wrong_type(path, member_path, "an integer", v);
  }
  if (type == "boolean") {
    if (!v.is_bool()) return wrong_type(path, member_path, "true or false", v);
    return v;
  }
  if (type == "float" || type == "double") {
    if (!v.is_number()) return wrong_type(path, member_path, "a number", v);
    return v;
  }
  if (type == "timestamp") {
    if (!v.is_string() && !v.is_number()) return wrong_type(path, member_path, "a time (ISO 8601 or epoch seconds)", v);
    return v;
  }
  return v;
}

LIFTOFF_DECL bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

/// Characters outside [a-zA-Z0-9] as single dashes, none at either end.
LIFTOFF_DECL std::string name_part(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (is_name_char(c)) out += c;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

LIFTOFF_DECL boost::json::object& object_member(boost::json::object& o, std::string_view key) {
  auto& v = o[key];
  if (!v.is_object()) v = boost::json::object();
  return v.get_object();
}

LIFTOFF_DECL std::string string_member(boost::json::object const& o, std::string_view key) {
  if (auto const* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return {};
}

/** The run's environment (`run_environment`) for `job_inputs::environment`,
    without the variables named in `secret_names`: SageMaker shows a job's
    Environment to anyone who may describe it. */
LIFTOFF_DECL std::map<std::string, std::string> job_environment(launch_spec const& spec, launch_options const& options,
                                                          std::vector<std::string> const& secret_names) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : run_environment(spec, options))
    if (std::find(secret_names.begin(), secret_names.end(), k) == secret_names.end()) out[k] = std::move(v);
  return out;
}

}  // namespace detail

LIFTOFF_DECL result<job_settings> parse_sagemaker_args(boost::json::object const& args, aws::service_model const* model) {
  job_settings out;
  auto const& prefix = detail::field_prefix();
  std::string const input = model ? model->input_shape("CreateTrainingJob") : std::string();
  boost::json::object const* members = nullptr;
  if (!input.empty())
    if (auto const* s = model->shape(input))
      if (auto const* m = s->if_contains("members"); m && m->is_object()) members = &m->get_object();

  std::vector<std::string> known_names;  // for suggestions
  if (members)
    for (auto const& [k, v] : *members) known_names.emplace_back(k);
  else
    for (auto const& m : detail::create_training_job_members()) known_names.emplace_back(m.name);

  for (auto const& [key, value] : args) {
    std::string const path = prefix + "." + std::string(key);
    if (key == "region" || key == "profile" || key == "registry") {
      if (value.is_null()) continue;
      if (!value.is_string()) return detail::wrong_type(path, {}, "a string", value);
      (key == "region" ? out.region : key == "profile" ? out.profile : out.registry) = value.get_string();
      continue;
    }
    if (value.is_null()) continue;
    // The member this key names, ignoring case and underscores.
    std::string name;
    auto const folded = detail::fold(key);
    for (auto const& k : known_names)
      if (k == key || detail::fold(k) == folded) {
        name = k;
        break;
      }
    if (name.empty()) {
      std::vector<std::string> folded_known;
      for (auto const& k : known_names) folded_known.push_back(detail::fold(k));
      folded_known.insert(folded_known.end(), {"region", "profile", "registry"});
      std::vector<std::string_view> views(folded_known.begin(), folded_known.end());
      std::string msg = path + ": not a CreateTrainingJob member nor one of liftoff's keys (region, profile, registry)";
      if (auto m = closest_match(folded, views); !m.empty()) {
        std::string suggestion = m;
        for (auto const& k : known_names)
          if (detail::fold(k) == m) suggestion = k;
        msg += "; did you mean `" + suggestion + "`?";
      } else {
        msg += "; the members are those of the SageMaker CreateTrainingJob API, e.g. ResourceConfig, "
               "OutputDataConfig, StoppingCondition, HyperParameters";
      }
      return diagnostic(error::unknown_field, std::move(msg));
    }
    if (members) {
      auto const* ref = members->if_contains(name);
      std::string shape_name;
      if (ref && ref->is_object())
        if (auto const* s = ref->get_object().if_contains("shape"); s && s->is_string()) shape_name = s->get_string();
      auto c = detail::convert_modeled(*model, shape_name, value, path, name, name == "HyperParameters");
      if (!c) return c.error();
      out.request[name] = std::move(*c);
      continue;
    }
    auto const& table = detail::create_training_job_members();
    auto it = std::find_if(table.begin(), table.end(), [&](auto const& m) { return m.name == name; });
    std::string_view const kind = it == table.end() ? std::string_view() : it->kind;
    if (kind == "object" && !value.is_object()) return detail::wrong_type(path, name, "an object", value);
    if (kind == "array" && !value.is_array()) return detail::wrong_type(path, name, "an array", value);
    if (kind == "string" && !value.is_string()) return detail::wrong_type(path, name, "a string", value);
    if (kind == "bool" && !value.is_bool()) return detail::wrong_type(path, name, "true or false", value);
    auto c = detail::convert_plain(value, path, name, detail::is_map_member(name), name == "HyperParameters");
    if (!c) return c.error();
    out.request[name] = std::move(*c);
  }
  return out;
}

LIFTOFF_DECL std::string training_job_name(launch_spec const& spec, int attempt) {
  constexpr std::size_t max_length = 63;
  std::string prefix;
  for (auto const* candidate : {&spec.name, &spec.job_name, &spec.project}) {
    prefix = detail::name_part(*candidate);
    if (!prefix.empty()) break;
  }
  if (prefix.empty()) prefix = "liftoff";
  std::string const tail = attempt > 1 ? "-a" + std::to_string(attempt) : std::string();
  // Room for at least one character of prefix and its dash; a longer run id keeps its end.
  std::string id = detail::name_part(spec.run_id);
  std::size_t const max_id = max_length - 2 - tail.size();
  if (id.size() > max_id) id = detail::name_part(std::string_view(id).substr(id.size() - max_id));
  std::string const suffix = id.empty() ? tail : "-" + id + tail;
  if (prefix.size() + suffix.size() > max_length) prefix.resize(max_length - suffix.size());
  while (!prefix.empty() && prefix.back() == '-') prefix.pop_back();
  if (prefix.empty()) prefix = "l";
  return prefix + suffix;
}

LIFTOFF_DECL result<boost::json::object> make_create_training_job(launch_spec const& spec, job_settings const& settings,
                                                            job_inputs const& in, aws::service_model const* model) {
  auto const& prefix = detail::field_prefix();
  boost::json::object req = settings.request;
  auto missing = [&](std::string_view member, std::string_view what) {
    return diagnostic(error::invalid_spec, prefix + "." + std::string(member) + " is required: " + std::string(what));
  };
  if (!req.contains("RoleArn"))
    return missing("RoleArn",
                   "the IAM role SageMaker runs the job as, e.g. \"arn:aws:iam::123456789012:role/SageMakerRole\" "
                   "or a role name of the caller's account (\"SageMakerRole\")");
  if (!req.contains("ResourceConfig"))
    return missing("ResourceConfig",
                   "the instances to train on, e.g. {\"InstanceType\": \"ml.m5.xlarge\", \"InstanceCount\": 1, "
                   "\"VolumeSizeInGB\": 30}");
  if (!req.contains("OutputDataConfig"))
    return missing("OutputDataConfig",
                   "where SageMaker writes the model, e.g. {\"S3OutputPath\": \"s3://bucket/prefix\"}");
  if (!req.contains("StoppingCondition"))
    return missing("StoppingCondition",
                   "how long the job may run, e.g. {\"MaxRuntimeInSeconds\": 86400}");

  req["TrainingJobName"] = training_job_name(spec, in.attempt);

  auto& algo = detail::object_member(req, "AlgorithmSpecification");
  if (!algo.contains("TrainingImage") && !algo.contains("AlgorithmName")) {
    if (in.image.empty())
      return missing("AlgorithmSpecification.TrainingImage",
                     "the image to run (the pipeline gives it, or set it to an ECR image such as "
                     "\"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/train:latest\")");
    algo["TrainingImage"] = in.image;
  }
  if (!algo.contains("TrainingInputMode")) algo["TrainingInputMode"] = "File";
  auto const& entry = spec.overrides.entry_point ? *spec.overrides.entry_point : spec.entry_point;
  if (!algo.contains("ContainerEntrypoint") && !entry.empty()) algo["ContainerEntrypoint"] = boost::json::value_from(entry);
  if (!algo.contains("ContainerArguments") && !spec.overrides.args.empty())
    algo["ContainerArguments"] = boost::json::value_from(spec.overrides.args);

  if (auto const* role = req.if_contains("RoleArn"); role && role->is_string() &&
                                                     !role->get_string().starts_with("arn:")) {
    std::string name(role->get_string());
    if (in.account.empty())
      return diagnostic(error::invalid_spec, prefix + ".RoleArn: the role name `" + name +
                                                 "` needs the account it belongs to; give the full ARN "
                                                 "(\"arn:aws:iam::<account>:role/" + name + "\")");
    while (!name.empty() && name.front() == '/') name.erase(name.begin());
    req["RoleArn"] = "arn:" + (in.partition.empty() ? std::string("aws") : in.partition) + ":iam::" + in.account +
                     ":role/" + name;
  }

  boost::json::object env;
  for (auto const& [k, v] : in.environment) env[k] = v;
  if (auto const* given = req.if_contains("Environment"); given && given->is_object())
    for (auto const& [k, v] : given->get_object()) env[k] = v;
  req["Environment"] = std::move(env);

  boost::json::array tags;
  if (auto const* given = req.if_contains("Tags"); given && given->is_array())
    for (auto const& t : given->get_array()) {
      if (t.is_object() && detail::string_member(t.get_object(), "Key") == run_id_tag) continue;
      tags.push_back(t);
    }
  tags.push_back(boost::json::object{{"Key", run_id_tag}, {"Value", spec.run_id}});
  req["Tags"] = std::move(tags);

  if (model) {
    auto problems = model->validate_input("CreateTrainingJob", req);
    if (!problems.empty()) {
      for (auto& p : problems) p.path = p.path.empty() ? prefix : prefix + "." + p.path;
      return diagnostic(error::invalid_spec,
                        "the SageMaker CreateTrainingJob request is not valid: " + aws::describe(problems));
    }
  }
  return req;
}

LIFTOFF_DECL job_view read_description(boost::json::object const& describe) {
  job_view v;
  v.status = detail::string_member(describe, "TrainingJobStatus");
  v.secondary_status = detail::string_member(describe, "SecondaryStatus");
  v.failure_reason = detail::string_member(describe, "FailureReason");
  if (auto const* t = describe.if_contains("SecondaryStatusTransitions"); t && t->is_array() && !t->get_array().empty())
    if (auto const* last = t->get_array().back().if_object())
      v.status_message = detail::string_member(*last, "StatusMessage");
  if (auto const* b = describe.if_contains("EnableManagedSpotTraining"); b && b->is_bool()) v.managed_spot = b->get_bool();
  if (auto const* tags = describe.if_contains("Tags"); tags && tags->is_array())
    for (auto const& t : tags->get_array())
      if (t.is_object() && detail::string_member(t.get_object(), "Key") == run_id_tag)
        v.run_id = detail::string_member(t.get_object(), "Value");
  if (v.run_id.empty())
    if (auto const* env = describe.if_contains("Environment"); env && env->is_object())
      v.run_id = detail::string_member(env->get_object(), "LIFTOFF_RUN_ID");
  return v;
}

LIFTOFF_DECL run_status status_of(job_view const& v, bool stop_requested) {
  auto with_reason = [&](std::string text) {
    if (!v.failure_reason.empty()) text += ": " + v.failure_reason;
    else if (!v.status_message.empty()) text += ": " + v.status_message;
    return text;
  };
  if (v.secondary_status == "Interrupted" && (v.status == "Failed" || v.status == "Stopped") && !stop_requested)
    return run_status(run_state::preempted, std::nullopt, failure_stage::run,
                      with_reason("SageMaker interrupted the managed spot instances of the training job") +
                          "; the run can start again (with checkpoints in CheckpointConfig it resumes)");
  if (v.secondary_status == "MaxWaitTimeExceeded" && v.status != "InProgress" && v.status != "Stopping")
    return run_status(run_state::failed, std::nullopt, failure_stage::run,
                      with_reason("spot capacity did not come in time: the training job waited "
                                  "StoppingCondition.MaxWaitTimeInSeconds for managed spot instances") +
                          "; raise MaxWaitTimeInSeconds, choose another instance type, or set "
                          "EnableManagedSpotTraining to false");
  if (v.status == "Completed") return run_status(run_state::finished, 0);
  if (v.status == "Failed")
    return run_status(run_state::failed, std::nullopt, failure_stage::run,
                      (v.failure_reason.empty() ? std::string("the SageMaker training job failed")
                                                : "the SageMaker training job failed: " + v.failure_reason) +
                          " (the job's output is in CloudWatch Logs, group /aws/sagemaker/TrainingJobs)");
  if (v.status == "Stopped") {
    if (v.secondary_status == "MaxRuntimeExceeded" && !stop_requested)
      return run_status(run_state::failed, std::nullopt, failure_stage::run,
                        "the SageMaker training job ran longer than StoppingCondition.MaxRuntimeInSeconds and "
                        "was stopped; raise MaxRuntimeInSeconds or make the job shorter");
    return run_status(run_state::stopped);
  }
  static std::set<std::string_view> const before_training = {
      "",        "Starting", "Pending", "LaunchingMLInstances", "PreparingTrainingStack", "Downloading",
      "DownloadingTrainingImage"};
  if (before_training.contains(v.secondary_status)) return run_status(run_state::starting);
  return run_status(run_state::running);
}

}  // namespace liftoff::sagemaker

#endif
