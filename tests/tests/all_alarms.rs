//! The template's alarms keep up with what it deploys: every function has an Errors and a
//! Throttles alarm, every function fed by a stream an IteratorAge alarm, every queue that
//! holds work given up on (dead-letter queues and on-failure destinations) a depth alarm,
//! each API its error alarm, every alarm notifies the alarm topic, and the dashboard shows
//! every function. A function or queue added without its alarms fails here.
//!
//! `template.yaml` is read as `all_routes_agree.rs` reads it (`serde_norway`). Its
//! short-form intrinsics arrive as tagged values: `!Ref X` is a tag `Ref` on the string
//! `X`, `!GetAtt X.QueueName` a tag `GetAtt` on `X.QueueName`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_norway::Value as Yaml;

fn template() -> Yaml {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
            .unwrap_or_else(|e| panic!("template.yaml: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("template.yaml: {e}"))
}

/// `(logical id, resource)` of every resource of one type.
fn resources<'a>(template: &'a Yaml, kind: &str) -> Vec<(&'a str, &'a Yaml)> {
    template["Resources"]
        .as_mapping()
        .expect("template.yaml has Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
        .map(|(id, resource)| (id.as_str().expect("logical ids are strings"), resource))
        .collect()
}

fn ids<'a>(resources: &[(&'a str, &'a Yaml)]) -> BTreeSet<&'a str> {
    resources.iter().map(|&(id, _)| id).collect()
}

/// The logical id `!Ref X` (or `{Ref: X}`) names.
fn ref_to(value: &Yaml) -> Option<&str> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        Yaml::Mapping(map) => map.get("Ref").and_then(Yaml::as_str),
        _ => None,
    }
}

/// The logical id and attribute `!GetAtt X.Attribute` (or `Fn::GetAtt: [X, Attribute]`)
/// names.
fn get_att(value: &Yaml) -> Option<(&str, &str)> {
    fn pair(seq: &[Yaml]) -> Option<(&str, &str)> {
        Some((seq.first()?.as_str()?, seq.get(1)?.as_str()?))
    }
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "GetAtt" => match &tagged.value {
            Yaml::String(dotted) => dotted.split_once('.'),
            Yaml::Sequence(seq) => pair(seq),
            _ => None,
        },
        Yaml::Mapping(map) => pair(map.get("Fn::GetAtt")?.as_sequence()?),
        _ => None,
    }
}

/// A function's events (HttpApi, DynamoDB, SQS, ...).
fn events(function: &Yaml) -> impl Iterator<Item = &Yaml> {
    function["Properties"]["Events"]
        .as_mapping()
        .into_iter()
        .flat_map(|events| events.values())
}

/// What an alarm watches: a metric and its dimensions (name, value as written).
struct Alarm<'a> {
    id: &'a str,
    namespace: &'a str,
    metric: &'a str,
    dimensions: Vec<(&'a str, &'a Yaml)>,
    properties: &'a Yaml,
}

fn alarms(template: &Yaml) -> Vec<Alarm<'_>> {
    resources(template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(id, alarm)| {
            let properties = &alarm["Properties"];
            let dimensions: Vec<(&str, &Yaml)> = properties["Dimensions"]
                .as_sequence()
                .map(|dimensions| {
                    dimensions
                        .iter()
                        .map(|d| (d["Name"].as_str().unwrap_or_default(), &d["Value"]))
                        .collect()
                })
                .unwrap_or_default();
            Alarm {
                id,
                namespace: properties["Namespace"].as_str().unwrap_or_default(),
                metric: properties["MetricName"].as_str().unwrap_or_default(),
                dimensions,
                properties,
            }
        })
        .collect()
}

/// The resources the alarms on `namespace`/`metric` watch, named by `!Ref` in the
/// dimension `dimension`.
fn watched_by_ref<'a>(
    alarms: &[Alarm<'a>],
    namespace: &str,
    metric: &str,
    dimension: &str,
) -> BTreeSet<&'a str> {
    alarms
        .iter()
        .filter(|alarm| alarm.namespace == namespace && alarm.metric == metric)
        .flat_map(|alarm| &alarm.dimensions)
        .filter_map(|&(name, value)| (name == dimension).then_some(value).and_then(ref_to))
        .collect()
}

/// The queues whose depth an alarm watches (`QueueName: !GetAtt X.QueueName`).
fn watched_queues<'a>(alarms: &[Alarm<'a>]) -> BTreeSet<&'a str> {
    alarms
        .iter()
        .filter(|alarm| {
            alarm.namespace == "AWS/SQS" && alarm.metric == "ApproximateNumberOfMessagesVisible"
        })
        .flat_map(|alarm| &alarm.dimensions)
        .filter_map(|&(name, value)| match get_att(value) {
            Some((queue, "QueueName")) if name == "QueueName" => Some(queue),
            _ => None,
        })
        .collect()
}

fn assert_all_watched<'a>(expected: &BTreeSet<&'a str>, watched: &BTreeSet<&'a str>, what: &str) {
    let missing: Vec<&&str> = expected.difference(watched).collect();
    assert!(missing.is_empty(), "{what}: {missing:?}");
}

#[test]
fn every_function_has_an_errors_and_a_throttles_alarm() {
    let template = template();
    let functions = ids(&resources(&template, "AWS::Serverless::Function"));
    assert!(!functions.is_empty(), "template.yaml declares functions");
    let alarms = alarms(&template);
    for metric in ["Errors", "Throttles"] {
        assert_all_watched(
            &functions,
            &watched_by_ref(&alarms, "AWS/Lambda", metric, "FunctionName"),
            &format!("functions without a {metric} alarm (FunctionName: !Ref the function)"),
        );
    }
}

#[test]
fn every_stream_consumer_has_an_iterator_age_alarm() {
    let template = template();
    let consumers: BTreeSet<&str> = resources(&template, "AWS::Serverless::Function")
        .into_iter()
        .filter(|&(_, function)| {
            events(function)
                .any(|event| matches!(event["Type"].as_str(), Some("DynamoDB" | "Kinesis")))
        })
        .map(|(id, _)| id)
        .collect();
    assert!(!consumers.is_empty(), "the table's stream has consumers");
    assert_all_watched(
        &consumers,
        &watched_by_ref(
            &alarms(&template),
            "AWS/Lambda",
            "IteratorAge",
            "FunctionName",
        ),
        "stream consumers without an IteratorAge alarm",
    );
}

/// The queues that hold work given up on: named for it (dead letter), the target of a
/// queue's redrive policy, or a stream's or queue's on-failure destination.
fn failure_queues(template: &Yaml) -> BTreeSet<&str> {
    let queues = resources(template, "AWS::SQS::Queue");
    let queue_ids = ids(&queues);
    let mut failure: BTreeSet<&str> = queue_ids
        .iter()
        .copied()
        .filter(|id| {
            let id = id.to_ascii_lowercase();
            id.contains("deadletter") || id.contains("dlq")
        })
        .collect();
    failure.extend(
        queues
            .iter()
            .filter_map(|&(_, queue)| {
                get_att(&queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
            })
            .map(|(target, _)| target),
    );
    failure.extend(
        resources(template, "AWS::Serverless::Function")
            .into_iter()
            .flat_map(|(_, function)| events(function))
            .filter_map(|event| {
                get_att(&event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
            })
            .map(|(target, _)| target)
            .filter(|target| queue_ids.contains(target)),
    );
    failure
}

#[test]
fn every_dead_letter_and_on_failure_queue_has_a_depth_alarm() {
    let template = template();
    let failure = failure_queues(&template);
    let queues = ids(&resources(&template, "AWS::SQS::Queue"));
    assert!(
        !failure.is_empty() && failure.is_subset(&queues),
        "failure queues {failure:?} among the template's queues {queues:?}"
    );
    assert_all_watched(
        &failure,
        &watched_queues(&alarms(&template)),
        "dead-letter and on-failure queues without a depth alarm \
         (ApproximateNumberOfMessagesVisible, QueueName: !GetAtt the queue's QueueName)",
    );
}

#[test]
fn every_api_has_an_error_alarm() {
    let template = template();
    let alarms = alarms(&template);
    let http = ids(&resources(&template, "AWS::Serverless::HttpApi"));
    assert!(!http.is_empty(), "template.yaml declares the HTTP API");
    assert_all_watched(
        &http,
        &watched_by_ref(&alarms, "AWS/ApiGateway", "5xx", "ApiId"),
        "HTTP APIs without a 5xx alarm",
    );
    let websocket: BTreeSet<&str> = resources(&template, "AWS::ApiGatewayV2::Api")
        .into_iter()
        .filter(|&(_, api)| api["Properties"]["ProtocolType"].as_str() == Some("WEBSOCKET"))
        .map(|(id, _)| id)
        .collect();
    assert!(
        !websocket.is_empty(),
        "template.yaml declares the WebSocket API"
    );
    assert_all_watched(
        &websocket,
        &watched_by_ref(&alarms, "AWS/ApiGateway", "ExecutionError", "ApiId"),
        "WebSocket APIs without an ExecutionError alarm",
    );
}

#[test]
fn every_alarm_notifies_the_alarm_topic() {
    let template = template();
    let topics = ids(&resources(&template, "AWS::SNS::Topic"));
    let alarms = alarms(&template);
    assert!(!alarms.is_empty(), "template.yaml declares alarms");
    for alarm in &alarms {
        for actions in ["AlarmActions", "OKActions"] {
            let notified: Vec<&str> = alarm.properties[actions]
                .as_sequence()
                .map(|targets| targets.iter().filter_map(ref_to).collect())
                .unwrap_or_default();
            assert!(
                notified.iter().any(|target| topics.contains(target)),
                "{}: {actions} names no topic of the template ({topics:?})",
                alarm.id
            );
        }
        assert_eq!(
            alarm.properties["TreatMissingData"].as_str(),
            Some("notBreaching"),
            "{}: an idle stack (no data) is not an alarm",
            alarm.id
        );
    }
}

#[test]
fn the_dashboard_shows_every_function() {
    let template = template();
    let dashboards = resources(&template, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1, "one dashboard");
    let body = dashboards[0].1["Properties"]["DashboardBody"]
        .as_str()
        .expect("the dashboard body is a !Sub string");
    for (id, _) in resources(&template, "AWS::Serverless::Function") {
        for metric in ["Errors", "Throttles"] {
            let line = format!(r#"["AWS/Lambda", "{metric}", "FunctionName", "${{{id}}}""#);
            assert!(body.contains(&line), "the dashboard lacks {line}");
        }
    }
}
