//! What the page may do to a running command while it runs: stop it, or pause and resume
//! it. The worker raises these flags as the commands arrive; the session's run reads them
//! between steps.

use std::cell::Cell;

/// The flags of the running command.
#[derive(Debug, Default)]
pub struct Control {
    /// Raised by Stop.
    pub stop: Cell<bool>,
    /// Raised by Pause, lowered by Resume.
    pub paused: Cell<bool>,
}
