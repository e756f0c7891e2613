//! What the session tests share: a host that records replies and serves the repository's
//! `public/` folder, and helpers to start a session and send it commands.
#![allow(dead_code, clippy::unwrap_used)] // each test binary uses some of it

use std::cell::{Cell, RefCell};

use burn::tensor::{read_sync, Device};
use kizu_app::backend::decide;
use kizu_app::protocol::{Action, BackendChoice, BackendInfo, Event, ModelView, Reply};
use kizu_app::session::{handle, Control, Host, Session};

/// Records replies and fetches; serves URLs below `kizu:` from the repository's `public/` folder;
/// asks to stop after `stop_after` pauses (one pause per step), to pause at `pause_at`
/// (resuming after three idle waits).
pub struct TestHost {
    pub replies: RefCell<Vec<Reply>>,
    pub stop_after: usize,
    pub pause_at: usize,
    pub pauses: Cell<usize>,
    pub idles: Cell<usize>,
    pub control: std::rc::Rc<Control>,
    pub started: std::time::Instant,
    /// Every URL fetched, in order.
    pub fetched: RefCell<Vec<String>>,
    /// Bodies served, one fetch each, instead of the file whose URL ends so (damaged
    /// downloads).
    pub damaged: RefCell<Vec<(String, Vec<u8>)>>,
}

impl TestHost {
    pub fn new() -> Self {
        Self::stopping_after(usize::MAX)
    }

    pub fn stopping_after(stop_after: usize) -> Self {
        Self {
            replies: RefCell::default(),
            stop_after,
            pause_at: usize::MAX,
            pauses: Cell::new(0),
            idles: Cell::new(0),
            control: std::rc::Rc::default(),
            started: std::time::Instant::now(),
            fetched: RefCell::default(),
            damaged: RefCell::default(),
        }
    }

    pub fn events(&self) -> Vec<Event> {
        self.replies
            .borrow()
            .iter()
            .map(|r| r.event.clone())
            .collect()
    }
}

impl Host for TestHost {
    fn emit(&self, reply: Reply) {
        self.replies.borrow_mut().push(reply);
    }
    async fn idle(&self) {
        self.idles.set(self.idles.get() + 1);
        // Resumed after a few idle waits, as a user would.
        if self.idles.get().is_multiple_of(3) {
            self.control.paused.set(false);
        }
    }
    async fn pause(&self) {
        self.pauses.set(self.pauses.get() + 1);
        if self.pauses.get() >= self.stop_after {
            self.control.stop.set(true);
        }
        if self.pauses.get() == self.pause_at {
            self.control.paused.set(true);
        }
    }
    fn now_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        self.fetched.borrow_mut().push(url.to_owned());
        let damaged = self
            .damaged
            .borrow()
            .iter()
            .position(|(end, _)| url.ends_with(end));
        if let Some(at) = damaged {
            return Ok(self.damaged.borrow_mut().remove(at).1);
        }
        let path = url.strip_prefix("kizu:/").ok_or("not a test URL")?;
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../public")
            .join(path);
        std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))
    }
    async fn device(&self, choice: BackendChoice) -> (Device, BackendInfo) {
        (Device::flex(), decide(choice, None))
    }
}

/// A session that has said hello.
pub fn started(host: &TestHost) -> RefCell<Session> {
    let session = RefCell::new(Session::default());
    let hello = Action::Hello {
        base_url: "kizu:/".into(),
        backend: BackendChoice::Cpu,
    };
    send(&session, hello, host);
    session
}

/// Sends one command and returns its last event.
pub fn send(session: &RefCell<Session>, action: Action, host: &TestHost) -> Event {
    let control = host.control.clone();
    read_sync(handle(session, 1, action, host, &control));
    host.replies.borrow().last().unwrap().event.clone()
}

/// The model a command's last event brought.
pub fn model(event: Event) -> ModelView {
    match event {
        Event::Model(view) => *view,
        other => panic!("expected a model, got {other:?}"),
    }
}
