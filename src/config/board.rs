//! The board file schema (`board-config/*.toml`): what the hardware is — display, rotation, touch,
//! badge reader and modem ports, backlight and watchdog. Facilities staff pick one per kiosk model.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardFile {
    pub version: u32,
    pub board: BoardSection,
    pub display: DisplaySection,
    #[serde(default)]
    pub touch: TouchSection,
    pub reader: Option<SerialDeviceSection>,
    pub modem: Option<SerialDeviceSection>,
    #[serde(default)]
    pub backlight: BacklightSection,
    #[serde(default)]
    pub watchdog: WatchdogSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardSection {
    /// Short identifier, e.g. `rpi4-official-7in`.
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplaySection {
    pub width: u32,
    pub height: u32,
    /// Degrees clockwise: 0, 90, 180 or 270 (the picture; touch is calibrated separately).
    #[serde(default)]
    pub rotation: u32,
    /// Physical width of the visible area in millimetres, for touch-target sizing (≥ 9 mm keys).
    pub width_mm: u32,
    /// DRM connector to use (`SLINT_DRM_OUTPUT`), e.g. `DSI-1`; first connected if absent.
    pub output: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TouchSection {
    /// libinput calibration matrix (6 numbers) applied by a udev rule; identity if absent.
    pub calibration_matrix: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReaderProtocol {
    /// RDM6300 / EM4100 frames: STX, 10 hex digits, 2 hex checksum, ETX.
    Em4100Frame,
    /// One badge ID per line.
    Line,
    /// A keyboard-wedge reader typing into the UI; no serial port.
    KeyboardWedge,
}

impl ReaderProtocol {
    pub fn name(self) -> &'static str {
        match self {
            ReaderProtocol::Em4100Frame => "em4100-frame",
            ReaderProtocol::Line => "line",
            ReaderProtocol::KeyboardWedge => "keyboard-wedge",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialDeviceSection {
    /// Prefer a stable path such as /dev/serial/by-id/… or a udev symlink (/dev/sspr-reader).
    pub port: Option<PathBuf>,
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// Reader only.
    pub protocol: Option<ReaderProtocol>,
}

fn default_baud() -> u32 {
    9600
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BacklightSection {
    /// sysfs backlight device, e.g. /sys/class/backlight/10-0045.
    pub device: Option<PathBuf>,
    /// Percent brightness when idle (attract screen after `dim_after_secs`).
    pub idle_percent: u32,
    pub active_percent: u32,
    pub dim_after_secs: u64,
}

impl Default for BacklightSection {
    fn default() -> Self {
        BacklightSection {
            device: None,
            idle_percent: 30,
            active_percent: 100,
            dim_after_secs: 120,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchdogSection {
    /// Hardware watchdog device handed to systemd (RuntimeWatchdogSec).
    pub device: Option<PathBuf>,
    pub timeout_secs: u64,
}

impl Default for WatchdogSection {
    fn default() -> Self {
        WatchdogSection {
            device: None,
            timeout_secs: 15,
        }
    }
}

/// Meaning checks for a board file; returns whether it is usable.
pub(super) fn validate(board: &BoardFile, out: &mut super::validate::Findings) -> bool {
    if board.version != super::kiosk::FORMAT_VERSION {
        out.error(
            "version",
            format!(
                "this sspr-kiosk reads board format version {}: write `version = 1`",
                super::kiosk::FORMAT_VERSION
            ),
        );
    }
    let d = &board.display;
    out.range("display.width", d.width, 240, 7680);
    out.range("display.height", d.height, 240, 7680);
    out.range("display.width_mm", d.width_mm, 50, 2000);
    if ![0, 90, 180, 270].contains(&d.rotation) {
        out.error("display.rotation", "rotation is 0, 90, 180 or 270 degrees");
    }
    if let Some(matrix) = &board.touch.calibration_matrix
        && matrix.len() != 6
    {
        out.error(
            "touch.calibration_matrix",
            format!(
                "a libinput calibration matrix has 6 numbers, found {}",
                matrix.len()
            ),
        );
    }
    for (name, device) in [("reader", &board.reader), ("modem", &board.modem)] {
        let Some(device) = device else { continue };
        let wedge = device.protocol == Some(ReaderProtocol::KeyboardWedge);
        if device.port.is_none() && !wedge {
            out.error(
                name,
                format!("[{name}] needs `port`, e.g. \"/dev/serial/by-id/…\""),
            );
        }
        if ![1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200].contains(&device.baud) {
            out.error(
                format!("{name}.baud"),
                format!(
                    "{} is not a standard serial speed (9600, 115200, …)",
                    device.baud
                ),
            );
        }
        match (name, device.protocol) {
            ("reader", None) => out.error(
                "reader",
                "set `protocol` to \"em4100-frame\", \"line\" or \"keyboard-wedge\"",
            ),
            ("reader", Some(ReaderProtocol::KeyboardWedge)) if device.port.is_some() => {
                out.error(
                    "reader.port",
                    "a keyboard-wedge reader types into the UI: remove `port`",
                );
            }
            ("modem", Some(_)) => {
                out.error("modem.protocol", "`protocol` is for badge readers only")
            }
            _ => {}
        }
    }
    let b = &board.backlight;
    out.range("backlight.active_percent", b.active_percent, 1, 100);
    out.range(
        "backlight.idle_percent",
        b.idle_percent,
        0,
        b.active_percent.max(1),
    );
    out.range("watchdog.timeout_secs", board.watchdog.timeout_secs, 5, 300);
    !out.has_errors()
}
