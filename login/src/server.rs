//! Browser OAuth: a one-shot HTTP server on 127.0.0.1 receives the authorization callback.
//!
//! Single-threaded: the listener is polled, and each connection gets [`CONNECTION_TIMEOUT`] in
//! all (not per read) to send its request head, capped by the login deadline, so one slow
//! client cannot hold the server. The whole login is bounded by [`LOGIN_TIMEOUT`].
//!
//! `/cancel` lets a second `codex login` take the port over (it sends a plain `GET`); requests
//! a browser marks as coming from another site (`Sec-Fetch-Site`, `Origin`) are refused, so a
//! web page cannot end the login.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::http::{parse_query, percent_encode, printable};
use crate::log::login_log;
use crate::manager::AuthManager;
use crate::oauth::{FinishLoginError, Pkce, exchange_code, finish_login, random_base64url};
use crate::secret::Secret;
use crate::server_pages::{
    ErrorPage, GENERIC_HELP, GENERIC_TITLE, render_error_page, render_success_page,
};
use crate::server_request::{ReadRequest, read_request};
use crate::settings::DEFAULT_ISSUER;
use crate::storage::AuthStoreError;
use crate::token_data::{IdTokenInfo, parse_chatgpt_jwt_claims};

const LOGIN_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// After the success redirect, how long the browser gets to fetch `/success`.
const SUCCESS_PAGE_GRACE: Duration = Duration::from_secs(10);
/// How long one connection may take, in all, to deliver its request head.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
const BIND_ATTEMPTS: u32 = 10;
const BIND_RETRY_DELAY: Duration = Duration::from_millis(200);
const CANCEL_TIMEOUT: Duration = Duration::from_secs(2);
const SCOPE: &str = "openid profile email offline_access api.connectors.read api.connectors.invoke";

/// Where the user should go: passed to the caller once the server is listening.
#[derive(Debug, Clone)]
pub struct BrowserLogin {
    pub auth_url: String,
    pub port: u16,
}

/// Why the browser login failed. `kind` mirrors upstream's error kinds.
#[derive(Debug, thiserror::Error)]
pub enum BrowserLoginError {
    #[error("Port 127.0.0.1:{0} is already in use")]
    PortInUse(u16),
    #[error("failed to start the login server: {0}")]
    Bind(io::Error),
    #[error("failed to generate random values")]
    Random,
    #[error("Login cancelled")]
    Cancelled,
    #[error("login timed out after 15 minutes")]
    TimedOut,
    /// The provider or the policy refused; nothing was stored.
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Failed(String),
    /// Stored credentials could not be read; they were left in place and the login not started.
    #[error(transparent)]
    StoredCredentials(AuthStoreError),
}

enum Step {
    Continue,
    Completed,
    Finish(Result<(), BrowserLoginError>),
}

struct Flow<'a> {
    manager: &'a AuthManager,
    state: String,
    pkce: Pkce,
    redirect_uri: String,
    port: u16,
    completed: bool,
}

impl AuthManager {
    /// Run the browser login: clear the stored credentials (revoking them; stored credentials
    /// that cannot be read stop the login instead), listen on the callback port, call `on_ready`
    /// with the authorize URL, try to open a browser, and wait for the callback. Failures to
    /// open a browser are ignored: the caller prints the URL.
    pub fn login_with_browser(
        &self,
        on_ready: impl FnOnce(&BrowserLogin),
    ) -> Result<(), BrowserLoginError> {
        self.clear_before_login()
            .map_err(BrowserLoginError::StoredCredentials)?;
        let pkce = Pkce::generate().map_err(|_| BrowserLoginError::Random)?;
        let state = random_base64url(32).map_err(|_| BrowserLoginError::Random)?;
        let (default_port, fallback_port) = self.settings.login_ports();
        let listener = bind_login_port(default_port, fallback_port)?;
        let port = listener
            .local_addr()
            .map_err(BrowserLoginError::Bind)?
            .port();
        // 127.0.0.1, as upstream 0.169 registers it (and `localhost` may resolve to `::1`,
        // where nothing listens).
        let redirect_uri = format!("http://127.0.0.1:{port}/auth/callback");
        let auth_url = self.authorize_url(&redirect_uri, &pkce.challenge, &state);
        login_log(format_args!("login server listening on 127.0.0.1:{port}"));
        let opened = crate::browser::open(&auth_url, self.settings.environment.browser.as_deref());
        login_log(format_args!("browser opened: {opened}"));
        on_ready(&BrowserLogin { auth_url, port });
        let mut flow = Flow {
            manager: self,
            state,
            pkce,
            redirect_uri,
            port,
            completed: false,
        };
        flow.serve(&listener)
    }

    pub(crate) fn authorize_url(&self, redirect_uri: &str, challenge: &str, state: &str) -> String {
        let settings = &self.settings;
        let mut params = vec![
            // Upstream 0.169's order.
            ("response_type", "code".to_string()),
            ("client_id", settings.client_id.clone()),
            ("redirect_uri", redirect_uri.to_string()),
            ("code_challenge", challenge.to_string()),
            ("code_challenge_method", "S256".to_string()),
            ("state", state.to_string()),
            ("scope", SCOPE.to_string()),
            ("id_token_add_organizations", "true".to_string()),
            ("codex_cli_simplified_flow", "true".to_string()),
            ("originator", settings.originator().to_string()),
        ];
        if !settings.forced_workspace_ids.is_empty() {
            params.push((
                "allowed_workspace_id",
                settings.forced_workspace_ids.join(","),
            ));
        }
        let query: Vec<String> = params
            .iter()
            .map(|(key, value)| format!("{key}={}", percent_encode(value)))
            .collect();
        format!("{}/oauth/authorize?{}", settings.issuer(), query.join("&"))
    }
}

/// Bind the default port; when it is busy ask a previous login server to stop (`GET /cancel`)
/// and retry, then fall back to the second port.
fn bind_login_port(
    default_port: u16,
    fallback_port: u16,
) -> Result<TcpListener, BrowserLoginError> {
    let mut cancel_sent = false;
    for port in [default_port, fallback_port] {
        for _ in 0..BIND_ATTEMPTS {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(listener) => return Ok(listener),
                Err(error) if error.kind() == io::ErrorKind::AddrInUse => {
                    if !cancel_sent {
                        cancel_sent = true;
                        send_cancel(port);
                    }
                    std::thread::sleep(BIND_RETRY_DELAY);
                }
                Err(error) => return Err(BrowserLoginError::Bind(error)),
            }
        }
        login_log(format_args!("port {port} stayed busy"));
        if port == fallback_port {
            break;
        }
    }
    Err(BrowserLoginError::PortInUse(fallback_port))
}

fn send_cancel(port: u16) {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, CANCEL_TIMEOUT) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(CANCEL_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CANCEL_TIMEOUT));
    let request =
        format!("GET /cancel HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut sink = [0u8; 512];
        let _ = stream.read(&mut sink);
    }
    login_log(format_args!(
        "asked a previous login server on port {port} to cancel"
    ));
}

impl Flow<'_> {
    fn serve(&mut self, listener: &TcpListener) -> Result<(), BrowserLoginError> {
        listener
            .set_nonblocking(true)
            .map_err(BrowserLoginError::Bind)?;
        let mut deadline = Instant::now() + LOGIN_TIMEOUT;
        loop {
            if Instant::now() >= deadline {
                return if self.completed {
                    Ok(())
                } else {
                    Err(BrowserLoginError::TimedOut)
                };
            }
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(25));
                    continue;
                }
                Err(error) => {
                    login_log(format_args!("accept failed: {error}"));
                    continue;
                }
            };
            match self.handle(stream, deadline) {
                Step::Continue => {}
                Step::Completed => {
                    self.completed = true;
                    deadline = Instant::now() + SUCCESS_PAGE_GRACE;
                }
                Step::Finish(result) => return result,
            }
        }
    }

    fn handle(&mut self, mut stream: TcpStream, login_deadline: Instant) -> Step {
        let deadline = (Instant::now() + CONNECTION_TIMEOUT).min(login_deadline);
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_write_timeout(Some(CONNECTION_TIMEOUT));
        let request = match read_request(&mut stream, deadline) {
            ReadRequest::Request(request) => request,
            ReadRequest::TimedOut => {
                login_log(format_args!("dropped a connection that was too slow"));
                respond(
                    &mut stream,
                    "408 Request Timeout",
                    "text/plain",
                    &[],
                    "Request Timeout",
                );
                return Step::Continue;
            }
            ReadRequest::Invalid => {
                respond(
                    &mut stream,
                    "400 Bad Request",
                    "text/plain",
                    &[],
                    "Bad Request",
                );
                return Step::Continue;
            }
        };
        let target = request.target.as_str();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        match path {
            "/auth/callback" => self.callback(&mut stream, query),
            "/success" => {
                respond(
                    &mut stream,
                    "200 OK",
                    "text/html; charset=utf-8",
                    &[],
                    &render_success_page(),
                );
                if self.completed {
                    Step::Finish(Ok(()))
                } else {
                    Step::Continue
                }
            }
            "/cancel" if request.is_cross_site(self.port) => {
                login_log(format_args!("refused a cross-site /cancel"));
                respond(
                    &mut stream,
                    "403 Forbidden",
                    "text/plain",
                    &[],
                    "Cross-site request refused",
                );
                Step::Continue
            }
            "/cancel" => {
                respond(&mut stream, "200 OK", "text/plain", &[], "Login cancelled");
                login_log(format_args!("login cancelled through /cancel"));
                Step::Finish(Err(BrowserLoginError::Cancelled))
            }
            _ => {
                respond(&mut stream, "404 Not Found", "text/plain", &[], "Not Found");
                Step::Continue
            }
        }
    }

    fn callback(&mut self, stream: &mut TcpStream, query: &str) -> Step {
        let params = parse_query(query);
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        if self.completed || param("state") != Some(self.state.as_str()) {
            respond(
                stream,
                "400 Bad Request",
                "text/plain",
                &[],
                "State mismatch",
            );
            return Step::Continue;
        }
        if let Some(error) = param("error") {
            return provider_error(stream, error, param("error_description"));
        }
        let Some(code) = param("code").filter(|code| !code.is_empty()) else {
            let message = "Missing authorization code. Sign-in could not be completed.";
            error_page(stream, message, "missing_authorization_code");
            return Step::Finish(Err(BrowserLoginError::Failed(message.to_string())));
        };
        let code = Secret::new(code);
        let tokens =
            match exchange_code(self.manager, &self.redirect_uri, &code, &self.pkce.verifier) {
                Ok(tokens) => tokens,
                Err(error) => {
                    let message = format!("Token exchange failed: {error}");
                    error_page(stream, &message, "token_exchange_failed");
                    return Step::Finish(Err(BrowserLoginError::Failed(message)));
                }
            };
        let access_claims =
            parse_chatgpt_jwt_claims(tokens.access_token.expose()).unwrap_or_default();
        match finish_login(self.manager, tokens) {
            Ok(id_claims) => {
                let location = self.success_url(&id_claims, &access_claims);
                respond(
                    stream,
                    "302 Found",
                    "text/plain",
                    &[("Location", &location)],
                    "",
                );
                Step::Completed
            }
            Err(FinishLoginError::Policy(violation)) => {
                let message = violation.to_string();
                error_page(stream, &message, "workspace_restriction");
                Step::Finish(Err(BrowserLoginError::PermissionDenied(message)))
            }
            Err(error @ FinishLoginError::Persist(_)) => {
                login_log(format_args!("{error}"));
                let message = "Sign-in completed but credentials could not be saved locally.";
                error_page(stream, message, "persist_failed");
                Step::Finish(Err(BrowserLoginError::Failed(error.to_string())))
            }
        }
    }

    /// `/success` with the onboarding hints (the id_token itself is not put in the URL).
    fn success_url(&self, id_claims: &IdTokenInfo, access_claims: &IdTokenInfo) -> String {
        let needs_setup = !id_claims.completed_platform_onboarding && id_claims.is_org_owner;
        let platform_url = if self.manager.settings.issuer() == DEFAULT_ISSUER {
            "https://platform.openai.com"
        } else {
            "https://platform.api.openai.org"
        };
        let plan = access_claims
            .chatgpt_plan_type
            .as_ref()
            .map(|plan| plan.as_str().to_string())
            .unwrap_or_default();
        format!(
            "http://127.0.0.1:{}/success?needs_setup={needs_setup}&org_id={}&project_id={}&plan_type={}&platform_url={}",
            self.port,
            percent_encode(id_claims.organization_id.as_deref().unwrap_or_default()),
            percent_encode(id_claims.project_id.as_deref().unwrap_or_default()),
            percent_encode(&plan),
            percent_encode(platform_url),
        )
    }
}

fn provider_error(stream: &mut TcpStream, error: &str, description: Option<&str>) -> Step {
    let entitlement = error == "access_denied"
        && description.is_some_and(|text| {
            text.to_ascii_lowercase()
                .contains("missing_codex_entitlement")
        });
    if entitlement {
        let html = render_error_page(&ErrorPage {
            title: "You do not have access to Codex",
            message: "This account is not currently authorized to use Codex in this workspace.",
            code: "access_denied",
            description: Some("Contact your workspace administrator to request access to Codex."),
            help: GENERIC_HELP,
        });
        respond(stream, "200 OK", "text/html; charset=utf-8", &[], &html);
        return Step::Finish(Err(BrowserLoginError::PermissionDenied(
            "Codex is not enabled for your workspace. Contact your workspace administrator to request access to Codex."
                .to_string(),
        )));
    }
    // Both values come from the query string: filtered before they reach the terminal.
    let message = format!(
        "Sign-in failed: {}",
        printable(description.unwrap_or(error))
    );
    error_page(stream, &message, &printable(error));
    Step::Finish(Err(BrowserLoginError::PermissionDenied(message)))
}

fn error_page(stream: &mut TcpStream, message: &str, code: &str) {
    let html = render_error_page(&ErrorPage {
        title: GENERIC_TITLE,
        message,
        code,
        description: None,
        help: GENERIC_HELP,
    });
    respond(stream, "200 OK", "text/html; charset=utf-8", &[], &html);
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: &str,
) {
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(body);
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
