//! The docs cannot drift from the code: every `toml` block of the README and
//! `docs/` is a fleet file (or a piece of one) that fleet's own parser
//! accepts, and every `fleet …` command line in their code blocks parses
//! with the real command line definition.

mod support;

use clap::Parser;
use fleet::cli::Cli;

/// README.md and every docs/*.md, with their names.
fn pages() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![(
        "README.md".to_owned(),
        std::fs::read_to_string(root.join("README.md")).unwrap(),
    )];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    assert!(docs.len() >= 10, "the reference lives in docs/: {docs:?}");
    for path in docs {
        let name = format!("docs/{}", path.file_name().unwrap().to_string_lossy());
        pages.push((name, std::fs::read_to_string(path).unwrap()));
    }
    pages
}

/// The code blocks of a page: (info string, first line number, text).
fn blocks(text: &str) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize, String, String)> = None;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        match &mut open {
            None if trimmed.starts_with("```") => {
                open = Some((
                    trimmed.trim_start_matches('`').trim().to_owned(),
                    number + 2,
                    indent.to_owned(),
                    String::new(),
                ));
            }
            None => {}
            Some((info, first, _, body)) if trimmed.starts_with("```") => {
                out.push((info.clone(), *first, std::mem::take(body)));
                open = None;
            }
            Some((_, _, indent, body)) => {
                body.push_str(line.strip_prefix(indent.as_str()).unwrap_or(line));
                body.push('\n');
            }
        }
    }
    out
}

/// A piece of a fleet file made whole: `[fleet]` and an account using its
/// first profile are added when the piece has none.
fn whole(piece: &str) -> String {
    let mut text = String::new();
    if !piece.contains("[fleet]") {
        text.push_str(
            "[fleet]\nregions = [\"us-east-1\"]\nrole_name = \"BedrockLoggingAdmin\"\n\n",
        );
    }
    text.push_str(piece);
    let profile = piece
        .lines()
        .find_map(|l| l.trim().strip_prefix("[profiles."))
        .map(|rest| rest.split(['.', ']']).next().unwrap().to_owned());
    let referenced = |name: &str| piece.contains(&format!("= \"{name}\""));
    let mut needed: Vec<String> = Vec::new();
    for name in ["standard", "off", "p"] {
        if referenced(name) && !piece.contains(&format!("[profiles.{name}")) {
            needed.push(name.to_owned());
        }
    }
    for name in needed {
        if name == "off" {
            text.push_str("\n[profiles.off]\nenabled = false\n");
        } else {
            text.push_str(&format!(
                "\n[profiles.{name}.s3_config]\nbucket_name = \"doc-{{account_id}}-{{region}}\"\n"
            ));
        }
    }
    if !piece.contains("[[accounts]]") && !piece.contains("[[organizational_units]]") {
        let profile = profile.unwrap_or_else(|| {
            text.push_str(
                "\n[profiles.doc.s3_config]\nbucket_name = \"doc-{account_id}-{region}\"\n",
            );
            "doc".to_owned()
        });
        text.push_str(&format!(
            "\n[[accounts]]\nid = \"111111111111\"\nprofile = \"{profile}\"\n"
        ));
    }
    text
}

#[test]
fn every_toml_block_is_a_fleet_file_fleet_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (page, text) in pages() {
        for (info, line, body) in blocks(&text) {
            if info != "toml" {
                continue;
            }
            checked += 1;
            let file = dir.path().join("fleet.toml");
            std::fs::write(&file, whole(&body)).unwrap();
            let run = support::run_fleet("http://127.0.0.1:9", dir.path(), &["validate"]);
            if run.code != 0 {
                failures.push(format!("{page}:{line}\n{}\n{}", whole(&body), run.stderr));
            }
        }
    }
    assert!(checked >= 4, "{checked} toml blocks");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Words of a `fleet …` line, up to a pipe or redirection; `None` for a
/// synopsis (`[OPTIONS]`, `<command>`, `…`, `|`-separated choices).
fn command(line: &str) -> Option<Vec<String>> {
    let line = line.trim().trim_start_matches("$ ");
    let line = line.split(" # ").next().unwrap().trim();
    if !line.starts_with("fleet ") {
        return None;
    }
    let line = line.split(['|', '>']).next().unwrap().trim();
    if line.contains(['[', '<', '…']) {
        return None;
    }
    let words = shlex::split(line)?;
    // `FILE`, `FORMAT`, `K/N`: a placeholder, not a value.
    let placeholder = |w: &String| {
        w.len() > 1
            && w.chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c == '/')
    };
    if words.iter().any(placeholder) {
        return None;
    }
    Some(words)
}

/// Inline code spans of prose (outside code blocks), with their line.
fn inline_code(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        let mut parts = line.split('`');
        parts.next();
        while let (Some(code), Some(_)) = (parts.next(), parts.next()) {
            out.push((number + 1, code.to_owned()));
        }
    }
    out
}

#[test]
fn every_fleet_command_line_parses_with_the_real_cli() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (page, text) in pages() {
        let mut lines: Vec<(usize, String)> = inline_code(&text);
        for (info, line, body) in blocks(&text) {
            if !matches!(info.as_str(), "sh" | "console" | "bash" | "") {
                continue;
            }
            // A line ending in `\` continues on the next.
            let joined = body.replace("\\\n", " ");
            lines.extend(
                joined
                    .lines()
                    .enumerate()
                    .map(|(i, l)| (line + i, l.to_owned())),
            );
        }
        for (line, text) in lines {
            let Some(words) = command(&text) else {
                continue;
            };
            checked += 1;
            // A mention of a command in prose (`fleet report`) names it
            // without its required arguments; a wrong flag still fails.
            match Cli::try_parse_from(&words) {
                Ok(_) => {}
                Err(err) if err.kind() == clap::error::ErrorKind::MissingRequiredArgument => {}
                Err(err) => failures.push(format!("{page}:{line}: {text}\n{err}")),
            }
        }
    }
    assert!(checked >= 20, "{checked} command lines");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The check is not vacuous: a misspelled flag fails.
    assert!(Cli::try_parse_from(["fleet", "plan", "--detailed-exit-code"]).is_err());
}
