//! The browser test's helpers, for the browser tests beside `browser.rs` (`desk.rs`): Chromium
//! and chromedriver found or the test skipped, a fresh browser per user, axe-core's WCAG 2.1 AA
//! checks on every screenshot, waits that give up after `PATIENCE`; used by `browser.rs` and
//! `desk.rs`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use domain::Timestamp;
use fantoccini::{Client, ClientBuilder, Locator};

use super::common::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";
/// Every wait in the browser gives up after this long.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Chromium and chromedriver, or `None` after saying that `what` is skipped without them.
pub fn chrome(what: &str) -> Option<(PathBuf, PathBuf)> {
    let found = (
        program(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        ),
        program("CHROMEDRIVER", &["chromedriver"]),
    );
    if let (Some(chromium), Some(chromedriver)) = found {
        return Some((chromium, chromedriver));
    }
    // Straight to stderr, past the test harness's capture, so the skip is seen.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED browser test ({what}): chromium and chromedriver are not installed \
         (Debian: apt-get install chromium chromium-driver; scripts/setup.sh installs them)"
    );
    None
}

/// The first of `names` found on the PATH (or given by `env`).
pub fn program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver on a free port; killed when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads its own process group, and the browsers it started are in it:
        // ending the group leaves no browser behind, even when the test failed half-way.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start_driver(chromedriver: &Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    use std::os::unix::process::CommandExt as _;
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver
}

/// A fresh browser (its own cookies) of the given window size.
pub async fn browser(driver: &Driver, chromium: &Path, width: u32, height: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--no-first-run",
                format!("--window-size={width},{height}"),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

pub fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// axe-core's source, installed by `scripts/setup.sh` (`tools/a11y`); `None` without it.
pub fn axe_source() -> Option<&'static str> {
    static AXE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    AXE.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tools/a11y/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(path).ok();
        if source.is_none() {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED accessibility checks: axe-core is not installed (bash scripts/setup.sh)"
            );
        }
        source
    })
    .as_deref()
}

/// Runs axe-core's WCAG 2.1 A and AA rules on the page and fails on any violation, naming
/// the rule, its help text and where it is.
pub async fn accessible(c: &Client, name: &str) {
    let Some(axe) = axe_source() else { return };
    c.execute(&format!("{axe}\n;return true;"), vec![])
        .await
        .expect("load axe-core");
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at '
                   + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    let violations: Vec<String> = serde_json::from_value(found).expect("a list");
    assert!(
        violations.is_empty(),
        "{name}: WCAG 2.1 AA violations:\n{}",
        violations.join("\n")
    );
}

/// A screenshot of the whole page (the window is stretched to the page's height for it),
/// after the page has passed the accessibility checks.
pub async fn shot(c: &Client, name: &str) {
    accessible(c, name).await;
    let (w, h) = c.get_window_size().await.expect("window size");
    let (w, h) = (
        u32::try_from(w).unwrap_or(1280),
        u32::try_from(h).unwrap_or(1000),
    );
    let page = c
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(h);
    let tall = page.clamp(h, 4000);
    if tall > h {
        c.set_window_size(w, tall + 120).await.expect("stretch");
    }
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("write screenshot");
    if tall > h {
        c.set_window_size(w, h).await.expect("restore");
    }
}

/// The text of the first element matching `css`, waiting for it (and past a page that is
/// being replaced).
pub async fn text(c: &Client, css: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let found = match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await,
            Err(e) => Err(e),
        };
        match found {
            Ok(t) => return t,
            Err(e) if tokio::time::Instant::now() >= deadline => {
                panic!("no {css} on the page: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Clicks something that loads a new page, and waits until the new page is there.
pub async fn click_through(c: &Client, css: &str) {
    c.execute("window.__previousPage = true; return true;", vec![])
        .await
        .expect("mark the page");
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} to click: {e}"))
        .click()
        .await
        .expect("click");
    until(
        c,
        "the next page",
        "return window.__previousPage !== true && document.readyState === 'complete';",
    )
    .await;
}

pub async fn log_in(c: &Client, base: &str, name: &str) {
    c.goto(&format!("{base}/login")).await.expect("login page");
    c.find(Locator::Id("name"))
        .await
        .expect("name field")
        .send_keys(name)
        .await
        .expect("type name");
    c.find(Locator::Id("password"))
        .await
        .expect("password field")
        .send_keys(PASSWORD)
        .await
        .expect("type password");
    click_through(c, "form[action='/login'] button").await;
    c.wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("form[action='/logout']"))
        .await
        .unwrap_or_else(|e| panic!("{name} is logged in: {e}"));
}

pub async fn log_out(c: &Client) {
    click_through(c, "form[action='/logout'] button").await;
    c.wait()
        .at_most(PATIENCE)
        .for_element(Locator::Id("password"))
        .await
        .expect("back at the login page");
}

/// Polls a script until it returns true.
pub async fn until(c: &Client, what: &str, script: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        // While a page is being replaced a script may fail; that is "not yet".
        if let Ok(serde_json::Value::Bool(true)) = c.execute(script, vec![]).await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {PATIENCE:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn add_user(app: &TestApp, name: &str, roles: &[&str], employee: Option<&str>) {
    let store = storage::open(app.data()).expect("open");
    let hash = access::hash_password_with(PASSWORD, access::PasswordParams::TEST).expect("hash");
    store
        .add_user(
            &storage::NewUser {
                name: name.into(),
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                employee_number: employee.map(str::to_owned),
                password_hash: Some(hash),
            },
            Timestamp::from_millis(0),
        )
        .expect("user");
}
