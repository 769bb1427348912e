//! Failed logins per email and source address (the login throttle). Counting per source
//! too means a stranger who knows an operator's email locks out only itself.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginFailuresRecord {
    pub failures: u32,
    pub window_start_ms: i64,
}
