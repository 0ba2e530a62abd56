//! Case `rules` (placeholder while the xdp case is built).
use anyhow::Result;

use crate::report::CaseResult;
use crate::{Progress, Settings};

pub fn run(_settings: &Settings, _progress: &Progress) -> Result<CaseResult> {
    anyhow::bail!("not written yet")
}
