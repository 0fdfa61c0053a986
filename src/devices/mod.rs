//! Hardware the kiosk talks to over serial lines. `badge` is the PURE reader protocol (frames,
//! lines, debounce, ID normalisation); `reader` is the serial thread that feeds it and reports taps
//! and availability to the agent. Devices come and go: nothing here may panic or stop the kiosk,
//! and nothing here knows about sessions or the UI.

pub mod badge;
pub mod reader;
