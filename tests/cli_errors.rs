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
