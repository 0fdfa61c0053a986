use super::*;
use serde::Deserialize;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Doc {
    version: u32,
    server: Server,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Server {
    host: String,
    port: u16,
    #[serde(default)]
    mode: Mode,
    timeout: Option<u64>,
}

#[derive(Debug, Deserialize, PartialEq, Default)]
#[serde(rename_all = "kebab-case")]
enum Mode {
    #[default]
    Fast,
    Careful,
}

fn messages<T: DeserializeOwned + std::fmt::Debug>(text: &str) -> Vec<(String, String)> {
    let parsed = parse::<T>(text);
    assert!(parsed.value.is_none() || parsed.problems.is_empty());
    parsed
        .problems
        .into_iter()
        .map(|p| (p.path, text[p.span].to_owned()))
        .collect()
}

#[test]
fn a_good_document_deserializes() {
    let parsed = parse::<Doc>(
        "version = 1\ntags = [\"a\"]\n[server]\nhost = \"h\"\nport = 389\nmode = \"careful\"\n",
    );
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    let doc = parsed.value.unwrap();
    assert_eq!(doc.server.port, 389);
    assert_eq!(doc.server.mode, Mode::Careful);
    assert_eq!(doc.server.timeout, None);
    assert_eq!(doc.tags, vec!["a".to_owned()]);
}

#[test]
fn every_problem_is_reported_with_its_span() {
    let text =
        "version = \"one\"\nbogus = 1\n[server]\nport = 70000\nmode = \"slow\"\nhots = \"x\"\n";
    let problems = parse::<Doc>(text).problems;
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"version"), "{problems:#?}");
    assert!(paths.contains(&"bogus"), "{problems:#?}");
    assert!(paths.contains(&"server.port"), "{problems:#?}");
    assert!(paths.contains(&"server.mode"), "{problems:#?}");
    assert!(paths.contains(&"server.hots"), "{problems:#?}");
    assert!(paths.contains(&"server.host"), "{problems:#?}");
    let spans = messages::<Doc>(text);
    assert!(
        spans.contains(&("version".into(), "\"one\"".into())),
        "{spans:?}"
    );
    assert!(
        spans.contains(&("bogus".into(), "bogus".into())),
        "{spans:?}"
    );
    assert!(
        spans.contains(&("server.port".into(), "70000".into())),
        "{spans:?}"
    );
    let hots = problems.iter().find(|p| p.path == "server.hots").unwrap();
    assert!(
        hots.message.contains("did you mean `host`"),
        "{}",
        hots.message
    );
    let host = problems.iter().find(|p| p.path == "server.host").unwrap();
    assert!(
        host.message
            .contains("missing required key `host` in [server]"),
        "{}",
        host.message
    );
}

#[test]
fn a_missing_section_is_reported() {
    let problems = parse::<Doc>("version = 1\n").problems;
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].path, "server");
}

#[test]
fn array_elements_are_located() {
    let text = "version = 1\ntags = [\"a\", 2]\n[server]\nhost = \"h\"\nport = 1\n";
    assert_eq!(
        messages::<Doc>(text),
        vec![("tags[1]".to_owned(), "2".to_owned())]
    );
}

#[test]
fn syntax_errors_are_located() {
    let problems = parse::<Doc>("version = \n[server\n").problems;
    assert!(!problems.is_empty());
    assert!(
        problems[0].message.starts_with("TOML syntax"),
        "{problems:?}"
    );
}

#[test]
fn edit_distance_counts_edits() {
    assert_eq!(edit_distance("hots", "host"), 2);
    assert_eq!(edit_distance("timeout", "timeout"), 0);
    assert_eq!(edit_distance("", "abc"), 3);
}
