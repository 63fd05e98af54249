//! Validates every `shaders/*.wgsl` with naga at build time, so a shader
//! mistake fails `cargo build` with the file and line instead of a panic in
//! the render thread at run time.
//!
//! The shaders use a few bevy_pbr `#import`s; bevy resolves those at run time.
//! Here the import lines are blanked (keeping line numbers) and stand-ins from
//! `shaders/validate_prelude.wgsl.in` are prepended.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    println!("cargo::rerun-if-changed=shaders");
    let prelude = match std::fs::read_to_string("shaders/validate_prelude.wgsl.in") {
        Ok(text) => text,
        Err(e) => {
            println!("cargo::error=cannot read shaders/validate_prelude.wgsl.in: {e}");
            return ExitCode::FAILURE;
        }
    };
    let prelude_lines = prelude.lines().count();
    let mut entries: Vec<_> = match std::fs::read_dir("shaders") {
        Ok(dir) => dir.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(e) => {
            println!("cargo::error=cannot list shaders/: {e}");
            return ExitCode::FAILURE;
        }
    };
    entries.sort();
    let mut failed = false;
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "wgsl"))
    {
        if let Err(message) = validate(path, &prelude, prelude_lines) {
            println!("cargo::error={message}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn validate(path: &Path, prelude: &str, prelude_lines: usize) -> Result<(), String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    let body: Vec<String> = text
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("#import") {
                String::new()
            } else {
                line.replace("#{MATERIAL_BIND_GROUP}", "3")
            }
        })
        .collect();
    let source = format!("{prelude}{}\n", body.join("\n"));
    let locate = |offset: Option<naga::SourceLocation>| match offset {
        Some(loc) => format!(
            "{name}:{}:{}",
            (loc.line_number as usize).saturating_sub(prelude_lines),
            loc.line_position
        ),
        None => name.to_string(),
    };
    let module = naga::front::wgsl::parse_str(&source)
        .map_err(|e| format!("{}: {}", locate(e.location(&source)), e.message()))?;
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .map_err(|e| {
        let at = e.spans().next().map(|(span, _)| span.location(&source));
        format!("{}: {}", locate(at), e.as_inner())
    })?;
    Ok(())
}
