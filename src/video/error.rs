//! Why a stream has no picture, in words an operator can act on. The
//! decoder's own log is classified into these; anything unrecognised keeps
//! the decoder's last error line verbatim.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VideoError {
    /// The decoder program is not installed.
    DecoderMissing { program: String },
    /// The camera's host name does not resolve.
    Unresolved { host: String },
    /// Nothing listens on the camera's port.
    Refused,
    /// The camera stopped answering.
    TimedOut,
    /// The camera wants other credentials.
    Unauthorized,
    /// The camera has no stream at that path.
    NotFound,
    /// What the camera sends cannot be parsed as a stream.
    InvalidData,
    /// The stream has no video track.
    NotVideo,
    /// The video is in a codec this wall does not decode.
    UnsupportedCodec { codec: String },
    /// The stream ended (the camera closed it).
    Ended,
    /// No frame for this long while connected.
    Stalled { ms: u64 },
    /// The URL is not one this source reads.
    BadUrl { url: String, reason: String },
    /// Anything else: the decoder's last error line.
    Other(String),
}

impl VideoError {
    /// The tile's reason line in Chinese.
    pub fn zh(&self) -> String {
        match self {
            VideoError::DecoderMissing { program } => {
                format!("未找到解码程序 {program}：请安装 ffmpeg（apt install ffmpeg）")
            }
            VideoError::Unresolved { host } => format!("地址无法解析：{host}"),
            VideoError::Refused => "连接被拒绝（端口无服务）".to_owned(),
            VideoError::TimedOut => "连接超时".to_owned(),
            VideoError::Unauthorized => "认证失败（用户名或密码）".to_owned(),
            VideoError::NotFound => "流地址不存在".to_owned(),
            VideoError::InvalidData => "数据无法解析（不是视频流）".to_owned(),
            VideoError::NotVideo => "流中没有视频".to_owned(),
            VideoError::UnsupportedCodec { codec } => {
                format!("不支持的编码 {codec}（支持 H.264 / H.265 / MJPEG）")
            }
            VideoError::Ended => "视频流已结束".to_owned(),
            VideoError::Stalled { ms } => format!("{:.1} 秒无画面", *ms as f64 / 1000.0),
            VideoError::BadUrl { url, reason } => format!("地址无效 {url}：{reason}"),
            VideoError::Other(line) => line.clone(),
        }
    }

    /// The tile's reason line in English.
    pub fn en(&self) -> String {
        self.to_string()
    }

    /// Errors that another try soon will not fix: retried slowly.
    pub fn is_lasting(&self) -> bool {
        matches!(
            self,
            VideoError::DecoderMissing { .. }
                | VideoError::UnsupportedCodec { .. }
                | VideoError::NotVideo
                | VideoError::BadUrl { .. }
                | VideoError::Unauthorized
        )
    }

    /// Classifies the decoder's log (oldest line first). `None` when no line
    /// says why.
    pub fn from_ffmpeg_log(lines: &[String], url: &str) -> Option<VideoError> {
        let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
        if has("Failed to resolve hostname")
            || has("Name or service not known")
            || has("Temporary failure in name resolution")
            || has("No address associated with hostname")
        {
            return Some(VideoError::Unresolved {
                host: host_of(url).unwrap_or(url).to_owned(),
            });
        }
        if has("Connection refused") {
            return Some(VideoError::Refused);
        }
        if has("401 Unauthorized") || has("401 Authorization Required") {
            return Some(VideoError::Unauthorized);
        }
        if has("404 Not Found") || has("No such file or directory") {
            return Some(VideoError::NotFound);
        }
        if has("matches no streams") || has("does not contain any stream") {
            return Some(VideoError::NotVideo);
        }
        if has("Connection timed out") || has("timed out") {
            return Some(VideoError::TimedOut);
        }
        if has("Invalid data found when processing input")
            || has("method DESCRIBE failed")
            || has("Server returned 4")
            || has("Server returned 5")
            || has("could not find codec parameters")
        {
            return Some(VideoError::InvalidData);
        }
        if let Some(codec) = lines.iter().find_map(|l| {
            l.split_once("Decoder (codec ")
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(c, _)| c.to_owned())
        }) {
            return Some(VideoError::UnsupportedCodec { codec });
        }
        // Otherwise the last line that says something failed (not the
        // summary ffmpeg prints when a stream simply ends).
        const FAULT: [&str; 8] = [
            "rror",
            "failed",
            "Failed",
            "nvalid",
            "Unable",
            "Could not",
            "cannot",
            "not found",
        ];
        lines
            .iter()
            .rev()
            .filter(|l| !l.starts_with("  ") && !l.starts_with("video:"))
            .find(|l| FAULT.iter().any(|f| l.contains(f)))
            .map(|l| VideoError::Other(l.trim().to_owned()))
    }
}

/// The host of `scheme://[user@]host[:port]/…`.
pub fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host_port,
    };
    (!host.is_empty()).then_some(host)
}

impl fmt::Display for VideoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VideoError::DecoderMissing { program } => {
                write!(
                    f,
                    "decoder {program} not found: install ffmpeg (apt install ffmpeg)"
                )
            }
            VideoError::Unresolved { host } => write!(f, "host {host} does not resolve"),
            VideoError::Refused => write!(f, "connection refused (nothing listens on the port)"),
            VideoError::TimedOut => write!(f, "connection timed out"),
            VideoError::Unauthorized => write!(f, "unauthorized (user name or password)"),
            VideoError::NotFound => write!(f, "no stream at that address"),
            VideoError::InvalidData => write!(f, "the data is not a stream (invalid data)"),
            VideoError::NotVideo => write!(f, "the stream has no video"),
            VideoError::UnsupportedCodec { codec } => {
                write!(
                    f,
                    "unsupported codec {codec} (H.264 / H.265 / MJPEG are decoded)"
                )
            }
            VideoError::Ended => write!(f, "the stream ended"),
            VideoError::Stalled { ms } => write!(f, "no picture for {:.1} s", *ms as f64 / 1000.0),
            VideoError::BadUrl { url, reason } => write!(f, "bad address {url}: {reason}"),
            VideoError::Other(line) => write!(f, "{line}"),
        }
    }
}

impl std::error::Error for VideoError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn ffmpeg_logs_classify_into_reasons() {
        let url = "rtsp://user@cam-7.example:8554/main";
        assert_eq!(
            VideoError::from_ffmpeg_log(
                &log(&[
                    "[tcp @ 0x5] Failed to resolve hostname cam-7.example: Name or service not known"
                ]),
                url
            ),
            Some(VideoError::Unresolved {
                host: "cam-7.example".into()
            })
        );
        assert_eq!(
            VideoError::from_ffmpeg_log(
                &log(&["[tcp @ 0x1] Connection to tcp://127.0.0.1:9 failed: Connection refused"]),
                url
            ),
            Some(VideoError::Refused)
        );
        assert_eq!(
            VideoError::from_ffmpeg_log(&log(&["Stream map '0:v:0' matches no streams."]), url),
            Some(VideoError::NotVideo)
        );
        assert_eq!(
            VideoError::from_ffmpeg_log(
                &log(&["x: Invalid data found when processing input"]),
                url
            ),
            Some(VideoError::InvalidData)
        );
        assert_eq!(
            VideoError::from_ffmpeg_log(&log(&["", "Conversion failed!"]), url),
            Some(VideoError::Other("Conversion failed!".into()))
        );
        assert_eq!(VideoError::from_ffmpeg_log(&[], url), None);
        // A stream that just ended leaves only its summary: no fault.
        assert_eq!(
            VideoError::from_ffmpeg_log(
                &log(&[
                    "frame=  380 fps= 25 q=-0.0 Lsize=   1kB time=00:00:15.20",
                    "video:774kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB",
                    "Exiting normally, received signal 15.",
                ]),
                url
            ),
            None
        );
    }

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(host_of("rtsp://a:b@10.0.0.2:554/s"), Some("10.0.0.2"));
        assert_eq!(host_of("http://cam.local/video.mjpg"), Some("cam.local"));
        assert_eq!(host_of("file.ts"), None);
    }
}
