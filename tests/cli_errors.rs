//! The command line's own refusals: clear messages, the right exit code,
//! never a panic or a backtrace.

use std::process::Command;

fn citytwin(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run citytwin");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn windowed_commands_without_a_display_say_so_with_exit_code_2() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/briefing_demo.ron");
    for args in [
        vec!["run", "--offline"],
        vec![],
        vec!["replay", "day.mcap"],
        vec!["present", scenario, "--offline"],
    ] {
        let (code, stderr) = citytwin(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("no display: set DISPLAY") && stderr.contains("citytwin render"),
            "{args:?} names the problem and the way out: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
            "{args:?}: no panic: {stderr}"
        );
    }
}

#[test]
fn missing_and_empty_files_are_said_once_and_plainly() {
    let dir = std::env::temp_dir().join(format!("citytwin-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let empty = dir.join("empty.geojson");
    std::fs::write(&empty, "  \n").expect("write");
    let none = dir.join("none.geojson");
    std::fs::write(&none, r#"{"type":"FeatureCollection","features":[]}"#).expect("write");
    let out = dir.join("x.png");
    let out = out.to_str().expect("utf-8");
    let cases = [
        (
            vec![
                "render",
                "--buildings",
                "/nonexistent/city.geojson",
                "--out",
                out,
            ],
            "cannot read /nonexistent/city.geojson: No such file or directory",
        ),
        (
            vec!["render", "--dem", "/nonexistent/dem.tif", "--out", out],
            "cannot read DEM /nonexistent/dem.tif: No such file or directory",
        ),
        (
            vec![
                "render",
                "--buildings",
                empty.to_str().expect("utf-8"),
                "--out",
                out,
            ],
            "empty.geojson is empty",
        ),
        (
            vec![
                "render",
                "--buildings",
                none.to_str().expect("utf-8"),
                "--out",
                out,
            ],
            "none.geojson: the FeatureCollection has no features",
        ),
    ];
    for (args, said) in cases {
        let (code, stderr) = citytwin(&args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
        assert_eq!(
            stderr.matches("No such file").count(),
            usize::from(said.contains("No such file")),
            "said once: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
