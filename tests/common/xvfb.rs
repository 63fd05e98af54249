//! A real X server for the window tests (Xvfb, apt package xvfb).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// An X server on a display it picks itself; stopped when dropped.
pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    /// Starts one with a 1280×800 screen.
    pub fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (apt package xvfb) must be installed for the window tests");
        let stdout = child.stdout.take().expect("Xvfb's stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("Xvfb reports its display");
        let number = line.trim();
        assert!(!number.is_empty(), "Xvfb did not report a display");
        Xvfb {
            child,
            display: format!(":{number}"),
        }
    }

    /// Points this process's windows at it. Only for a test binary that
    /// holds one test: nothing else may read the environment meanwhile.
    pub fn use_for_this_process(&self) {
        unsafe { std::env::set_var("DISPLAY", &self.display) };
        unsafe { std::env::remove_var("WAYLAND_DISPLAY") };
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
