//! /topics: the taxonomy by basket, with how many actors have a profile section on each topic.

use crate::atlas::Atlas;
use crate::error::CommandError;
use crate::reply::{Item, Reply, Text};

pub fn run(atlas: &Atlas) -> Result<Reply, CommandError> {
    // Served from memory: the counts are loaded with the indexes and change only on import.
    let topics = &atlas.topics;
    let mut r = Reply::answer("Topics");
    r.summary = Some(Text::plain("The digital-policy topics of the atlas, by basket. Ask /who-works-on with a topic, or in your own words."));
    let mut basket = String::new();
    let mut items = Vec::new();
    for t in topics {
        if t.basket_name != basket {
            if !items.is_empty() {
                r = r.section(&basket, std::mem::take(&mut items));
            }
            basket = t.basket_name.clone();
        }
        let count = match t.actors {
            0 => "mentioned in passing only".to_string(),
            1 => "1 actor".to_string(),
            n => format!("{n} actors"),
        };
        items.push(Item::labelled(t.name.clone(), count).more(format!("/who-works-on {}", t.name)));
    }
    if !items.is_empty() {
        r = r.section(&basket, items);
    }
    Ok(r)
}
