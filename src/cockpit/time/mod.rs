//! One clock for live and replay (model: Rerun's `time_control.rs`). The
//! [`TimeControl`] resource owns "now": Following the live head, Playing at a
//! speed, or Paused. Panels and keys send [`TimeControlCommand`]s; only
//! [`advance_time`] (in `AppSystems::AdvanceTime`) changes the clock.
//! Everything that means "now" reads [`TimeControl::now_ms`].

use std::path::PathBuf;

use bevy::prelude::*;

use super::schedule::AppSystems;
use crate::recording::CaseHistory;

/// The playback speeds offered (stream ms per real ms).
pub const SPEEDS: [f64; 4] = [1.0, 10.0, 60.0, 600.0];
/// The speed a replay starts at: one stream minute per second, the pace of
/// the live demo.
pub const DEFAULT_SPEED: f64 = 60.0;
/// One step of the step buttons.
pub const STEP_MS: i64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlayState {
    /// Live: the clock is the newest stream time received.
    Following,
    /// Playing the past at `speed` stream ms per real ms.
    Playing {
        speed: f64,
    },
    Paused,
}

#[derive(Resource, Debug, Clone, PartialEq)]
pub struct TimeControl {
    pub play: PlayState,
    /// The speed Playing resumes at.
    pub speed: f64,
    now_ms: Option<i64>,
    /// What can be shown: the recording's span (live: start of the
    /// session's history to the head).
    span: Option<(i64, i64)>,
    /// Whether a live head exists to follow.
    live: bool,
    /// Shift-drag on the timeline: a range to loop or export.
    pub selection: Option<(i64, i64)>,
    /// Loop playback inside the selection.
    pub looping: bool,
}

impl Default for TimeControl {
    fn default() -> Self {
        TimeControl::live()
    }
}

impl TimeControl {
    /// A live cockpit: following the head.
    pub fn live() -> TimeControl {
        TimeControl {
            play: PlayState::Following,
            speed: DEFAULT_SPEED,
            now_ms: None,
            span: None,
            live: true,
            selection: None,
            looping: false,
        }
    }

    /// A recording's replay over `span`, playing from its start.
    pub fn replay(span: (i64, i64)) -> TimeControl {
        TimeControl {
            play: PlayState::Playing {
                speed: DEFAULT_SPEED,
            },
            now_ms: Some(span.0),
            span: Some(span),
            live: false,
            ..TimeControl::live()
        }
    }

    /// The clock: the moment everything on screen shows.
    pub fn now_ms(&self) -> Option<i64> {
        self.now_ms
    }

    /// The clock, or — before it has a time (no stream yet, a test) — the
    /// time of the state shown.
    pub fn shown_ms(&self, state_time_ms: Option<i64>) -> i64 {
        self.now_ms.or(state_time_ms).unwrap_or(0)
    }

    pub fn span(&self) -> Option<(i64, i64)> {
        self.span
    }

    pub fn is_live(&self) -> bool {
        self.live
    }

    pub fn is_following(&self) -> bool {
        self.play == PlayState::Following
    }

    /// Showing the past (a recording, or live dragged back).
    pub fn is_replaying(&self) -> bool {
        !self.is_following()
    }

    /// Live: the newest stream time received moves the head (and the clock,
    /// while following).
    pub fn set_head(&mut self, head_ms: i64) {
        let start = self.span.map_or(head_ms, |s| s.0.min(head_ms));
        self.span = Some((start, head_ms));
        if self.is_following() {
            self.now_ms = Some(head_ms);
        }
    }

    /// Where the session's history starts (live: the first recorded time).
    pub fn set_span(&mut self, span: (i64, i64)) {
        self.span = Some(span);
    }

    fn clamp(&self, t: i64) -> i64 {
        match self.span {
            Some((a, b)) => t.clamp(a, b.max(a)),
            None => t,
        }
    }

    /// Applies one command.
    pub fn apply(&mut self, command: TimeControlCommand) {
        match command {
            TimeControlCommand::Play => {
                if !self.is_following() {
                    self.play = PlayState::Playing { speed: self.speed };
                }
            }
            TimeControlCommand::Pause => self.play = PlayState::Paused,
            TimeControlCommand::TogglePlay => {
                self.play = match self.play {
                    PlayState::Playing { .. } | PlayState::Following => PlayState::Paused,
                    PlayState::Paused => {
                        // At the end of a recording, play starts over.
                        if let (Some(now), Some((a, b))) = (self.now_ms, self.span)
                            && now >= b
                            && !self.live
                        {
                            self.now_ms = Some(a);
                        }
                        PlayState::Playing { speed: self.speed }
                    }
                }
            }
            TimeControlCommand::SetSpeed(speed) => {
                self.speed = speed.max(0.01);
                if let PlayState::Playing { .. } = self.play {
                    self.play = PlayState::Playing { speed: self.speed };
                }
            }
            TimeControlCommand::Seek(t) => {
                self.now_ms = Some(self.clamp(t));
                if self.is_following() {
                    self.play = PlayState::Paused;
                }
                if self.live && self.span.is_some_and(|(_, head)| t >= head) {
                    self.follow();
                }
            }
            TimeControlCommand::StepBy(dt) => {
                let now = self.now_ms.or(self.span.map(|s| s.1)).unwrap_or(0);
                self.play = PlayState::Paused;
                self.now_ms = Some(self.clamp(now + dt));
            }
            TimeControlCommand::Follow => self.follow(),
            TimeControlCommand::Select(range) => {
                self.selection = range.map(|(a, b)| (a.min(b), a.max(b)));
                if self.selection.is_none() {
                    self.looping = false;
                }
            }
            TimeControlCommand::Loop(on) => self.looping = on && self.selection.is_some(),
        }
    }

    fn follow(&mut self) {
        if self.live {
            self.play = PlayState::Following;
            self.now_ms = self.span.map(|s| s.1);
        }
    }

    /// Moves the clock on by `real_ms` of wall time.
    pub fn tick(&mut self, real_ms: f64) {
        let PlayState::Playing { speed } = self.play else {
            return;
        };
        let Some(now) = self.now_ms else { return };
        let mut next = now + (real_ms * speed).round() as i64;
        if self.looping
            && let Some((a, b)) = self.selection
            && next > b
        {
            next = a;
        }
        if let Some((_, end)) = self.span
            && next >= end
        {
            next = end;
            if self.live {
                self.follow();
                return;
            }
            self.play = PlayState::Paused;
        }
        self.now_ms = Some(next);
    }
}

/// Ask the clock to change (timeline bar, keys, briefings, History tab).
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub enum TimeControlCommand {
    Play,
    Pause,
    TogglePlay,
    SetSpeed(f64),
    /// Go to this stream time (live: at or past the head follows it again).
    Seek(i64),
    /// Step by this many stream ms (and pause).
    StepBy(i64),
    /// Back to live.
    Follow,
    /// A range to loop or export (None clears it).
    Select(Option<(i64, i64)>),
    Loop(bool),
}

/// Every case the stream mentioned and the timeline's marks: fed by the
/// live ingest as messages arrive, or read from a whole recording on a
/// background thread ([`MarksLoader`]).
#[derive(Resource, Debug, Default, Clone, Deref, DerefMut)]
pub struct TimelineMarks(pub CaseHistory);

/// A recording's marks being read on the `citytwin-marks` thread.
#[derive(Resource)]
pub struct MarksLoader(crossbeam_channel::Receiver<Result<CaseHistory, String>>);

impl MarksLoader {
    /// Starts reading `path`'s marks in the background.
    pub fn spawn(path: PathBuf) -> std::io::Result<MarksLoader> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::Builder::new()
            .name("citytwin-marks".to_owned())
            .spawn(move || {
                let result = CaseHistory::scan(&path).map_err(|e| e.to_string());
                let _ = tx.send(result);
            })?;
        Ok(MarksLoader(rx))
    }

    /// Waits for the marks (tests and headless tools).
    pub fn wait(&self) -> Option<Result<CaseHistory, String>> {
        self.0.recv().ok()
    }
}

fn receive_marks(
    mut commands: Commands,
    loader: Option<Res<MarksLoader>>,
    mut marks: ResMut<TimelineMarks>,
) {
    let Some(loader) = loader else { return };
    match loader.0.try_recv() {
        Ok(Ok(history)) => {
            marks.0 = history;
            commands.remove_resource::<MarksLoader>();
        }
        Ok(Err(reason)) => {
            error!("timeline marks: {reason}");
            commands.remove_resource::<MarksLoader>();
        }
        Err(crossbeam_channel::TryRecvError::Empty) => {}
        Err(crossbeam_channel::TryRecvError::Disconnected) => {
            commands.remove_resource::<MarksLoader>();
        }
    }
}

pub fn plugin(app: &mut App) {
    app.init_resource::<TimeControl>()
        .init_resource::<TimelineMarks>()
        .add_message::<TimeControlCommand>()
        .add_systems(
            Update,
            (advance_time, receive_marks).in_set(AppSystems::AdvanceTime),
        );
}

/// Handles this frame's commands, then moves a playing clock on.
pub fn advance_time(
    mut commands: MessageReader<TimeControlCommand>,
    mut time: ResMut<TimeControl>,
    real: Res<Time<Real>>,
) {
    for command in commands.read() {
        time.apply(*command);
    }
    let dt_ms = real.delta_secs_f64() * 1000.0;
    if matches!(time.play, PlayState::Playing { .. }) {
        time.tick(dt_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_plays_pauses_at_the_end_and_seeks_inside_its_span() {
        let mut t = TimeControl::replay((1_000, 61_000));
        assert_eq!(t.now_ms(), Some(1_000));
        t.tick(100.0); // 100 real ms at 60× = 6 stream s
        assert_eq!(t.now_ms(), Some(7_000));
        t.apply(TimeControlCommand::SetSpeed(600.0));
        t.tick(1_000.0);
        assert_eq!(t.now_ms(), Some(61_000), "stops at the end");
        assert_eq!(t.play, PlayState::Paused);
        t.apply(TimeControlCommand::Seek(-5));
        assert_eq!(t.now_ms(), Some(1_000), "clamped to the span");
        t.apply(TimeControlCommand::StepBy(STEP_MS));
        assert_eq!(t.now_ms(), Some(61_000));
        t.apply(TimeControlCommand::Follow);
        assert_eq!(t.play, PlayState::Paused, "a recording has no live head");
        t.apply(TimeControlCommand::TogglePlay);
        assert_eq!(t.now_ms(), Some(1_000), "play at the end starts over");
    }

    #[test]
    fn live_follows_the_head_until_dragged_back_and_back_to_live_follows_again() {
        let mut t = TimeControl::live();
        t.set_head(10_000);
        t.set_head(20_000);
        assert_eq!(
            (t.now_ms(), t.span()),
            (Some(20_000), Some((10_000, 20_000)))
        );
        t.apply(TimeControlCommand::Seek(12_000));
        assert!(t.is_replaying());
        t.set_head(30_000);
        assert_eq!(t.now_ms(), Some(12_000), "the past holds still");
        t.apply(TimeControlCommand::Play);
        t.tick(100.0);
        assert_eq!(t.now_ms(), Some(18_000));
        t.tick(1_000.0);
        assert!(t.is_following(), "playing into the head follows it");
        assert_eq!(t.now_ms(), Some(30_000));
        t.apply(TimeControlCommand::Seek(15_000));
        t.apply(TimeControlCommand::Follow);
        assert_eq!(t.now_ms(), Some(30_000));
    }

    #[test]
    fn a_selection_loops() {
        let mut t = TimeControl::replay((0, 100_000));
        t.apply(TimeControlCommand::Select(Some((50_000, 20_000))));
        assert_eq!(t.selection, Some((20_000, 50_000)));
        t.apply(TimeControlCommand::Loop(true));
        t.apply(TimeControlCommand::Seek(45_000));
        t.apply(TimeControlCommand::Play);
        t.tick(100.0);
        assert_eq!(
            t.now_ms(),
            Some(20_000),
            "past the end of the loop: back to its start"
        );
    }
}
