//! `fleet report` renders a saved plan whose `fleet_sha256` was edited to a
//! short or non-hex value instead of panicking on it.

mod emulated;
mod support;

#[test]
fn a_hand_edited_sha_does_not_crash_the_report() {
    let emulator = emulated::Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        emulated::fleet_file(416_000_000_000, 1, &["us-east-1"]),
    )
    .unwrap();
    let plan = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["plan", "--out", "plan.json"],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let text = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Byte 12 of the second falls inside a three-byte character.
    for sha in ["ab", "ab€€€€€€€€"] {
        doc["fleet_sha256"] = serde_json::json!(sha);
        std::fs::write(dir.path().join("edited.json"), doc.to_string()).unwrap();
        for format in ["human", "markdown", "json"] {
            let run = support::run_fleet(
                &emulator.endpoint,
                dir.path(),
                &["report", "edited.json", "--format", format],
            );
            assert_eq!(run.code, 0, "{sha} {format}: {}", run.stderr);
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        }
    }
}
