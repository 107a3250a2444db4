//! The service's durations and the one rule whose documented form changed over the years.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use strum::{Display, EnumIter};

/// The durations the service's timers use, and which cancel window applies.
///
/// The defaults are the service's documented values: 90 days of retention for a finished job,
/// 14 days for a job left in `Creating`, 14 days for a package to arrive, 30 more days before
/// the operators close a job whose package never came. In JSON: `{"retentionDays": 90,
/// "creatingExpiryDays": 14, "shippingExpiryDays": 14, "overdueCloseDays": 30}`; every field is
/// optional and falls back to its default (`"overdueCloseDays": null` means the operators wait
/// for ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields, remote = "Self")]
pub struct Policy {
    /// Days a job is kept once it entered `Completed` or `Closed` (R-TIMER-3).
    pub retention_days: u32,
    /// Days a job may stay in `Creating` before the service deletes it (R-TIMER-1).
    pub creating_expiry_days: u32,
    /// Days after the job was marked `Shipping` before its drives count as `NeverReceived`
    /// (R-TIMER-2).
    pub shipping_expiry_days: u32,
    /// Days a job whose package is overdue waits in `Shipping` (from the instant its drives
    /// became `NeverReceived`) before the operators move it to `Closed` (R-TIMER-6). `None`: the
    /// operators extend the wait indefinitely, and the job waits in `Shipping` until its package
    /// or a cancel comes.
    pub overdue_close_days: Option<u32>,
    /// Until which state a cancel is accepted (R-CANCEL-1).
    pub cancel_window: CancelWindow,
}

crate::wire::strict::strict_serde!(Policy);

impl Default for Policy {
    fn default() -> Self {
        Policy {
            retention_days: 90,
            creating_expiry_days: 14,
            shipping_expiry_days: 14,
            overdue_close_days: Some(30),
            cancel_window: CancelWindow::BeforePackaging,
        }
    }
}

impl Policy {
    /// The retention period as a duration.
    pub fn retention(&self) -> SignedDuration {
        days(self.retention_days)
    }

    /// How long a job may stay in `Creating`.
    pub fn creating_expiry(&self) -> SignedDuration {
        days(self.creating_expiry_days)
    }

    /// How long a package may take to arrive once the job is `Shipping`.
    pub fn shipping_expiry(&self) -> SignedDuration {
        days(self.shipping_expiry_days)
    }

    /// How long the operators wait for an overdue package before closing the job; `None` when
    /// they wait for ever.
    pub fn overdue_close(&self) -> Option<SignedDuration> {
        self.overdue_close_days.map(days)
    }
}

/// A whole number of days as a duration (86,400 seconds each; the service's timers are not
/// calendar-aware). Never overflows: `u32::MAX` days fit in a `SignedDuration`.
fn days(n: u32) -> SignedDuration {
    SignedDuration::from_secs(i64::from(n) * 86_400)
}

/// Until which state the service accepts a cancel.
///
/// The service's documentation narrowed the window over the years; the default is the rule of
/// the cancel-and-delete page this model started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, Display, EnumIter)]
pub enum CancelWindow {
    /// Accepted in `Creating`, `Shipping`, `Received` and `Transferring`: before `Packaging`
    /// (2015-2017 documentation; the default).
    #[default]
    BeforePackaging,
    /// Accepted in `Creating` and `Shipping` only (2021 FAQ).
    CreatingOrShipping,
    /// Accepted in `Creating` only (2023 portal documentation).
    CreatingOnly,
}
