//! PURE checks the flow core relies on: who may use the kiosk, and (as the agent lands) QA, codes,
//! TOTP, lockout and password policy. No I/O, no clock: time is an argument.

pub mod eligibility;
