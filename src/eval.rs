//! `atlasbot eval`: answer quality measured on a set of questions written from the sources.
//! Each question is a command line and what a correct answer must (and must not) say, with the
//! `file:line` that justifies it. For `/who-works-on`, the actors a specialist would name are
//! listed, and the top three shown are scored against them (precision at 3).
//!
//! The bundled set (`eval/questions.toml`) is the specification of classes of answers; a test
//! runs it on every build, and BENCHMARKS.md records its numbers.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::commands::{self, Caller, Context};
use crate::render::plain;
use crate::reply::{Reply, Tone};

/// The bundled question set.
pub const BUNDLED: &str = include_str!("../eval/questions.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionSet {
    #[serde(rename = "q")]
    pub questions: Vec<Question>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The command line, as a user types it.
    pub ask: String,
    /// The class of answer it checks ("substitution", "attribution", "ranking", …).
    pub class: String,
    /// Where the sources justify the expected answer ("000:649"), or why none does.
    pub source: String,
    /// Texts the answer must contain.
    #[serde(default)]
    pub expect: Vec<String>,
    /// Texts the answer must not contain (a neighbour's card, a wrong fact).
    #[serde(default)]
    pub reject: Vec<String>,
    /// "answer" or "not_found": the kind of answer expected.
    #[serde(default)]
    pub tone: Option<String>,
    /// `/who-works-on`: the actor that must come first (a text of its label).
    #[serde(default)]
    pub first: Option<String>,
    /// `/who-works-on`: actors a specialist would name; the top 3 are scored against them.
    #[serde(default)]
    pub relevant: Vec<String>,
}

/// How one question went.
#[derive(Debug)]
pub struct Outcome {
    pub ask: String,
    pub class: String,
    pub failures: Vec<String>,
    /// Precision at 3, for questions with `relevant` actors.
    pub precision: Option<f64>,
}

/// The whole run.
#[derive(Debug, Default)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.failures.is_empty())
            .count()
    }

    pub fn pass_rate(&self) -> f64 {
        ratio(self.passed(), self.outcomes.len())
    }

    /// Mean precision at 3 over the ranking questions.
    pub fn precision_at_3(&self) -> Option<f64> {
        let ps: Vec<f64> = self.outcomes.iter().filter_map(|o| o.precision).collect();
        (!ps.is_empty()).then(|| ps.iter().sum::<f64>() / ps.len() as f64)
    }

    /// Per class: (passed, total).
    pub fn by_class(&self) -> BTreeMap<&str, (usize, usize)> {
        let mut m: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for o in &self.outcomes {
            let e = m.entry(o.class.as_str()).or_default();
            e.1 += 1;
            if o.failures.is_empty() {
                e.0 += 1;
            }
        }
        m
    }

    /// The printed summary: totals, per class, then each failure.
    pub fn render(&self, verbose: bool) -> String {
        let mut out = format!(
            "{} of {} questions answered correctly ({:.1}%)\n",
            self.passed(),
            self.outcomes.len(),
            100.0 * self.pass_rate()
        );
        if let Some(p) = self.precision_at_3() {
            let n = self
                .outcomes
                .iter()
                .filter(|o| o.precision.is_some())
                .count();
            out.push_str(&format!(
                "/who-works-on precision of the top 3: {:.2} (mean over {n} topics)\n",
                p
            ));
        }
        for (class, (ok, all)) in self.by_class() {
            out.push_str(&format!("  {class:<14} {ok:>3} / {all}\n"));
        }
        for o in self.outcomes.iter().filter(|o| !o.failures.is_empty()) {
            out.push_str(&format!("FAIL {}  [{}]\n", o.ask, o.class));
            if verbose {
                for f in &o.failures {
                    out.push_str(&format!("     {f}\n"));
                }
            }
        }
        out
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

pub fn parse(text: &str) -> Result<QuestionSet, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

/// Asks every question as the console does and checks the answers.
pub async fn run(ctx: &Context, set: &QuestionSet) -> Report {
    let mut report = Report::default();
    for q in &set.questions {
        let reply = commands::answer(ctx, &Caller::console(), &q.ask).await;
        report.outcomes.push(check(q, &reply));
    }
    report
}

/// What is wrong with `reply` as an answer to `q` (nothing: it passed).
pub fn check(q: &Question, reply: &Reply) -> Outcome {
    // The plain renderer marks matched words *like this*; a fact is checked with and without,
    // in any case ("peacekeeping" is said by "Peacekeeping program …"). What must not be
    // said is matched as written: "*laws*" marked is wrong where "*LAWS*" is right.
    let text = plain::render(reply);
    let unmarked = text.replace('*', "");
    let (lower, unmarked_lower) = (text.to_lowercase(), unmarked.to_lowercase());
    let mut failures = Vec::new();
    for e in &q.expect {
        let e_lower = e.to_lowercase();
        if !lower.contains(&e_lower) && !unmarked_lower.contains(&e_lower) {
            failures.push(format!("missing {e:?}"));
        }
    }
    for r in &q.reject {
        if text.contains(r.as_str()) || unmarked.contains(r.as_str()) {
            failures.push(format!("must not say {r:?}"));
        }
    }
    if let Some(t) = &q.tone {
        let got = match reply.tone {
            Tone::Answer => "answer",
            Tone::NotFound => "not_found",
            Tone::Usage => "usage",
            Tone::Refusal => "refusal",
            Tone::Failure => "failure",
        };
        if got != t {
            failures.push(format!("expected a {t} answer, got {got}"));
        }
    }
    let actors = ranked_actors(reply);
    if let Some(first) = &q.first {
        match actors.first() {
            Some(a) if a.contains(first.as_str()) => {}
            other => failures.push(format!("first actor should be {first:?}, got {other:?}")),
        }
    }
    let precision = (!q.relevant.is_empty()).then(|| {
        let top: Vec<&String> = actors.iter().take(3).collect();
        let hits = top
            .iter()
            .filter(|a| q.relevant.iter().any(|r| a.contains(r.as_str())))
            .count();
        ratio(hits, q.relevant.len().min(3))
    });
    if let Some(p) = precision {
        if p < 1.0 {
            let top: Vec<&String> = actors.iter().take(3).collect();
            failures.push(format!("top 3 {top:?} against {:?}", q.relevant));
        }
    }
    Outcome {
        ask: q.ask.clone(),
        class: q.class.clone(),
        failures,
        precision,
    }
}

/// The actors a `/who-works-on` answer lists, in order.
fn ranked_actors(reply: &Reply) -> Vec<String> {
    reply
        .sections
        .iter()
        .filter(|s| s.heading == "Actors")
        .flat_map(|s| s.items.iter().filter_map(|i| i.label.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_set_parses_and_every_question_cites_a_source() {
        let set = parse(BUNDLED).expect("eval/questions.toml parses");
        assert!(set.questions.len() >= 150, "{}", set.questions.len());
        for q in &set.questions {
            assert!(!q.source.trim().is_empty(), "{} has no source", q.ask);
            assert!(
                !q.expect.is_empty()
                    || !q.reject.is_empty()
                    || q.first.is_some()
                    || q.tone.is_some()
                    || !q.relevant.is_empty(),
                "{} checks nothing",
                q.ask
            );
        }
    }
}
