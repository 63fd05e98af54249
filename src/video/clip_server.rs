//! The demo's cameras: an MPEG-TS clip served over loopback HTTP as endless
//! live streams, so the demo's tiles take the same path as a real camera
//! (network → ffmpeg → slot). Each client starts at a keyframe near the
//! second it asks for (`/clip.ts?start=S`), is paced by the clip's PCR, and
//! loops seamlessly: every pass adds the clip's length to PCR, PTS and DTS
//! and continuity counters run on, so the decoder sees one unbroken stream.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The clip bundled for the demo (see assets/video/NOTICE.md).
pub const DEMO_CLIP: &[u8] = include_bytes!("../../assets/video/street_camera.ts");

const PACKET: usize = 188;
const MAX_CLIENTS: usize = 64;
/// 33-bit timestamps wrap here.
const TS_WRAP: u64 = 1 << 33;

#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error("the clip is not MPEG-TS: {0}")]
    NotTs(String),
}

/// A parsed clip: its packets and where it can start and loop.
pub struct Clip {
    packets: Vec<[u8; PACKET]>,
    /// PAT and PMT packets, sent first to every client.
    psi: Vec<usize>,
    /// Packets a decoder can start at (random access points of the video).
    keyframes: Vec<usize>,
    /// The PCR of each packet that carries one.
    pcr: Vec<Option<u64>>,
    /// Length of one pass in 90 kHz ticks.
    pub duration_90k: u64,
}

fn pid(p: &[u8; PACKET]) -> u16 {
    (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2])
}

fn pusi(p: &[u8; PACKET]) -> bool {
    p[1] & 0x40 != 0
}

/// Offset of the payload, or None when the packet has none.
fn payload_at(p: &[u8; PACKET]) -> Option<usize> {
    let control = (p[3] >> 4) & 0x3;
    let start = match control {
        1 => 4,
        3 => 5 + usize::from(p[4]),
        _ => return None,
    };
    (start < PACKET).then_some(start)
}

fn has_adaptation(p: &[u8; PACKET]) -> bool {
    (p[3] >> 4) & 0x2 != 0 && p[4] > 0
}

/// The PCR base (90 kHz) of a packet.
fn read_pcr(p: &[u8; PACKET]) -> Option<u64> {
    if !has_adaptation(p) || p[5] & 0x10 == 0 || p[4] < 7 {
        return None;
    }
    let b = &p[6..12];
    Some(
        (u64::from(b[0]) << 25)
            | (u64::from(b[1]) << 17)
            | (u64::from(b[2]) << 9)
            | (u64::from(b[3]) << 1)
            | (u64::from(b[4]) >> 7),
    )
}

fn write_pcr(p: &mut [u8; PACKET], base: u64) {
    let base = base % TS_WRAP;
    p[6] = (base >> 25) as u8;
    p[7] = (base >> 17) as u8;
    p[8] = (base >> 9) as u8;
    p[9] = (base >> 1) as u8;
    p[10] = (((base & 1) as u8) << 7) | (p[10] & 0x7f);
}

/// Decodes a 5-byte PES timestamp.
pub fn read_ts(b: &[u8]) -> u64 {
    (u64::from((b[0] >> 1) & 0x07) << 30)
        | (u64::from(b[1]) << 22)
        | (u64::from(b[2] >> 1) << 15)
        | (u64::from(b[3]) << 7)
        | u64::from(b[4] >> 1)
}

/// Encodes a 5-byte PES timestamp, keeping the 4-bit prefix of `b[0]`.
pub fn write_ts(b: &mut [u8], ts: u64) {
    let ts = ts % TS_WRAP;
    b[0] = (b[0] & 0xf0) | (((ts >> 30) as u8 & 0x07) << 1) | 1;
    b[1] = (ts >> 22) as u8;
    b[2] = (((ts >> 15) as u8) << 1) | 1;
    b[3] = (ts >> 7) as u8;
    b[4] = ((ts as u8) << 1) | 1;
}

/// Where a packet's PES header holds PTS and DTS (`(pts, dts)` offsets).
fn pes_timestamps(p: &[u8; PACKET]) -> Option<(usize, Option<usize>)> {
    if !pusi(p) {
        return None;
    }
    let at = payload_at(p)?;
    let pes = &p[at..];
    if pes.len() < 14 || pes[..3] != [0, 0, 1] {
        return None;
    }
    let flags = pes[7] >> 6;
    match flags {
        2 => Some((at + 9, None)),
        3 => Some((at + 9, Some(at + 14))),
        _ => None,
    }
}

/// PIDs of the program map tables listed in a PAT packet.
fn pmt_pids(p: &[u8; PACKET]) -> Vec<u16> {
    let Some(at) = payload_at(p) else {
        return Vec::new();
    };
    let table = at + 1 + usize::from(p[at]);
    if table + 8 > PACKET {
        return Vec::new();
    }
    let section_len = (usize::from(p[table + 1] & 0x0f) << 8) | usize::from(p[table + 2]);
    let end = (table + 3 + section_len).saturating_sub(4).min(PACKET);
    let mut pids = Vec::new();
    let mut i = table + 8;
    while i + 4 <= end {
        let program = (u16::from(p[i]) << 8) | u16::from(p[i + 1]);
        let pid = (u16::from(p[i + 2] & 0x1f) << 8) | u16::from(p[i + 3]);
        if program != 0 {
            pids.push(pid);
        }
        i += 4;
    }
    pids
}

impl Clip {
    pub fn parse(bytes: &[u8]) -> Result<Clip, ClipError> {
        if bytes.len() < PACKET * 8 || !bytes.len().is_multiple_of(PACKET) {
            return Err(ClipError::NotTs(format!(
                "{} bytes is not a whole number of 188-byte packets",
                bytes.len()
            )));
        }
        let mut packets = Vec::with_capacity(bytes.len() / PACKET);
        for (i, chunk) in bytes.chunks_exact(PACKET).enumerate() {
            if chunk[0] != 0x47 {
                return Err(ClipError::NotTs(format!("packet {i} has no sync byte")));
            }
            let mut p = [0u8; PACKET];
            p.copy_from_slice(chunk);
            packets.push(p);
        }
        let pat = packets
            .iter()
            .position(|p| pid(p) == 0 && pusi(p))
            .ok_or_else(|| ClipError::NotTs("no program association table".to_owned()))?;
        let pmts = pmt_pids(&packets[pat]);
        let pmt = packets
            .iter()
            .position(|p| pmts.contains(&pid(p)) && pusi(p))
            .ok_or_else(|| ClipError::NotTs("no program map table".to_owned()))?;
        // The video: the PID whose PES stream id is 0xE0..=0xEF.
        let video = packets
            .iter()
            .find_map(|p| {
                let at = payload_at(p)?;
                (pusi(p)
                    && p[at..].len() > 4
                    && p[at..at + 3] == [0, 0, 1]
                    && p[at + 3] & 0xf0 == 0xe0)
                    .then(|| pid(p))
            })
            .ok_or_else(|| ClipError::NotTs("no video stream".to_owned()))?;
        let mut keyframes = Vec::new();
        let mut video_pts = Vec::new();
        for (i, p) in packets.iter().enumerate() {
            if pid(p) != video || !pusi(p) {
                continue;
            }
            if has_adaptation(p) && p[5] & 0x40 != 0 {
                keyframes.push(i);
            }
            if let Some((pts, _)) = pes_timestamps(p) {
                video_pts.push(read_ts(&p[pts..pts + 5]));
            }
        }
        if keyframes.is_empty() {
            keyframes.push(0);
        }
        video_pts.sort_unstable();
        let interval = video_pts
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| *d > 0)
            .min()
            .unwrap_or(3600);
        let duration_90k = match (video_pts.first(), video_pts.last()) {
            (Some(a), Some(b)) if b > a => b - a + interval,
            _ => return Err(ClipError::NotTs("the video has no timestamps".to_owned())),
        };
        let pcr = packets.iter().map(read_pcr).collect::<Vec<_>>();
        if pcr.iter().all(Option::is_none) {
            return Err(ClipError::NotTs("no PCR to pace the clip by".to_owned()));
        }
        Ok(Clip {
            packets,
            psi: vec![pat, pmt],
            keyframes,
            pcr,
            duration_90k,
        })
    }

    /// The keyframe packet nearest after `start_s` seconds into the clip.
    fn start_packet(&self, start_s: f64) -> usize {
        let Some(first) = self.pcr.iter().flatten().next().copied() else {
            return 0;
        };
        let target = first + ((start_s.max(0.0) * 90_000.0) as u64 % self.duration_90k.max(1));
        let time_of = |i: usize| self.pcr[..=i].iter().rev().flatten().next().copied();
        self.keyframes
            .iter()
            .copied()
            .find(|&k| time_of(k).is_some_and(|t| t >= target))
            .unwrap_or(self.keyframes[0])
    }

    /// Packet `index` of pass `pass`, its timestamps moved on by the passes
    /// before, and its continuity counter from `cc`.
    fn packet(&self, index: usize, pass: u64, cc: &mut [u8; 8192]) -> [u8; PACKET] {
        let mut p = self.packets[index];
        let shift = pass * self.duration_90k;
        if let Some(base) = read_pcr(&p) {
            write_pcr(&mut p, base + shift);
        }
        if let Some((pts, dts)) = pes_timestamps(&p) {
            let v = read_ts(&p[pts..pts + 5]);
            write_ts(&mut p[pts..pts + 5], v + shift);
            if let Some(dts) = dts {
                let v = read_ts(&p[dts..dts + 5]);
                write_ts(&mut p[dts..dts + 5], v + shift);
            }
        }
        if payload_at(&p).is_some() {
            let slot = &mut cc[usize::from(pid(&p))];
            *slot = (*slot + 1) & 0x0f;
            p[3] = (p[3] & 0xf0) | *slot;
        }
        p
    }
}

/// A clip server on loopback; stops when dropped.
pub struct ClipServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ClipServer {
    /// Serves `clip` on `addr` (port 0: any free port).
    pub fn start(clip: Arc<Clip>, addr: &str) -> std::io::Result<ClipServer> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("clip-server".to_owned())
                .spawn(move || accept(&listener, &clip, &stop))?
        };
        Ok(ClipServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The URL of a stream starting `start_s` seconds into the clip.
    pub fn url(&self, start_s: f64) -> String {
        format!("http://{}/clip.ts?start={start_s}", self.addr)
    }
}

impl Drop for ClipServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept(listener: &TcpListener, clip: &Arc<Clip>, stop: &Arc<AtomicBool>) {
    let clients = Arc::new(AtomicUsize::new(0));
    let mut n = 0u64;
    while !stop.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((socket, _)) => {
                n += 1;
                let (clip, stop, clients) = (clip.clone(), stop.clone(), clients.clone());
                if clients.fetch_add(1, Ordering::AcqRel) >= MAX_CLIENTS {
                    clients.fetch_sub(1, Ordering::AcqRel);
                    let mut socket = socket;
                    let _ = socket.write_all(b"HTTP/1.0 503 Service Unavailable\r\n\r\n");
                    continue;
                }
                let spawned = std::thread::Builder::new()
                    .name(format!("clip-client-{n}"))
                    .spawn(move || {
                        if let Err(e) = serve(socket, &clip, &stop) {
                            bevy::log::debug!("clip client {n}: {e}");
                        }
                        clients.fetch_sub(1, Ordering::AcqRel);
                    });
                if let Err(e) = spawned {
                    bevy::log::warn!("clip server: cannot start a client thread: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                bevy::log::warn!("clip server: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// Reads an HTTP request head; returns the start second it asks for.
fn read_request(socket: &mut TcpStream) -> std::io::Result<Option<f64>> {
    socket.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf)?;
        if n == 0 || head.len() > 8192 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let Some(path) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("GET "))
        .and_then(|l| l.split(' ').next())
    else {
        return Ok(None);
    };
    let (file, query) = path.split_once('?').unwrap_or((path, ""));
    if file != "/clip.ts" {
        return Ok(None);
    }
    let start = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("start="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    Ok(Some(start))
}

fn serve(mut socket: TcpStream, clip: &Clip, stop: &AtomicBool) -> std::io::Result<()> {
    let Some(start) = read_request(&mut socket)? else {
        socket.write_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    socket.set_nodelay(true)?;
    socket.write_all(
        b"HTTP/1.0 200 OK\r\nContent-Type: video/mp2t\r\nCache-Control: no-cache\r\n\r\n",
    )?;
    let mut cc = [0x0fu8; 8192];
    let mut out = Vec::with_capacity(PACKET * 64);
    for &i in &clip.psi {
        out.extend_from_slice(&clip.packet(i, 0, &mut cc));
    }
    let mut index = clip.start_packet(start);
    let mut pass = 0u64;
    let started = Instant::now();
    let mut pcr_origin: Option<u64> = None;
    while !stop.load(Ordering::Acquire) {
        let p = clip.packet(index, pass, &mut cc);
        if let Some(pcr) = read_pcr(&p) {
            // Send what came before, then wait for this packet's time.
            socket.write_all(&out)?;
            out.clear();
            let origin = *pcr_origin.get_or_insert(pcr);
            let due = Duration::from_micros(pcr.saturating_sub(origin) * 1000 / 90);
            let elapsed = started.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
        out.extend_from_slice(&p);
        index += 1;
        if index == clip.packets.len() {
            index = 0;
            pass += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_and_wrap_at_33_bits() {
        let mut b = [0x21u8, 0, 0, 0, 0];
        for ts in [0u64, 1, 90_000, TS_WRAP - 1, 123_456_789] {
            write_ts(&mut b, ts);
            assert_eq!(read_ts(&b), ts);
            assert_eq!(b[0] >> 4, 2, "the prefix stays");
        }
        write_ts(&mut b, TS_WRAP + 5);
        assert_eq!(read_ts(&b), 5);
    }

    #[test]
    fn the_demo_clip_parses_and_a_second_pass_continues_its_clock() {
        let clip = Clip::parse(DEMO_CLIP).expect("the bundled clip is MPEG-TS");
        // 795 frames at 10 fps.
        assert_eq!(clip.duration_90k, 795 * 9000);
        assert!(
            clip.keyframes.len() > 5,
            "{} keyframes",
            clip.keyframes.len()
        );
        let mut cc = [0x0fu8; 8192];
        let last_pts = |pass: u64, cc: &mut [u8; 8192]| {
            (0..clip.packets.len())
                .filter_map(|i| {
                    let p = clip.packet(i, pass, cc);
                    pes_timestamps(&p).map(|(at, _)| read_ts(&p[at..at + 5]))
                })
                .collect::<Vec<_>>()
        };
        let first = last_pts(0, &mut cc);
        let second = last_pts(1, &mut cc);
        let max_first = first.iter().max().copied().unwrap_or(0);
        let min_second = second.iter().min().copied().unwrap_or(0);
        assert!(min_second > max_first, "{min_second} after {max_first}");
        assert!(min_second - max_first <= 2 * 9000, "no gap between passes");
        assert!(clip.start_packet(30.0) > clip.start_packet(0.0));
    }

    #[test]
    fn bytes_that_are_not_ts_are_refused_with_the_reason() {
        let err = Clip::parse(&[0u8; 188 * 10]).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("the clip is not MPEG-TS: packet 0 has no sync byte")
        );
        assert!(Clip::parse(b"short").is_err());
    }
}
