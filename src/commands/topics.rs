//! /topics: the taxonomy by basket, with how many actors `/who-works-on` lists for each topic
//! and how many of them have a profile section on it — the same numbers the topic's answer
//! gives, so the two never disagree.

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
        let count = count_label(atlas.topic_ranking(t.id, 0, 0).1, t.actors);
        items.push(Item::labelled(t.name.clone(), count).more(format!("/who-works-on {}", t.name)));
    }
    if !items.is_empty() {
        r = r.section(&basket, items);
    }
    Ok(r)
}

/// "11 actors, 4 with a profile section on it": how many `/who-works-on` lists, and how many
/// of those have a section of their profile on the topic.
fn count_label(listed: usize, sections: i64) -> String {
    let actors = match listed {
        0 => return "no actor yet".to_string(),
        1 => "1 actor".to_string(),
        n => format!("{n} actors"),
    };
    match sections {
        0 => format!("{actors}, none with a profile section on it"),
        s if s as usize >= listed && listed == 1 => {
            format!("{actors}, with a profile section on it")
        }
        s if s as usize >= listed => format!("{actors}, each with a profile section on it"),
        s => format!("{actors}, {s} with a profile section on it"),
    }
}

#[cfg(test)]
mod tests {
    use super::count_label;

    #[test]
    fn the_count_is_what_who_works_on_lists_and_how_many_have_a_section() {
        assert_eq!(
            count_label(11, 4),
            "11 actors, 4 with a profile section on it"
        );
        assert_eq!(
            count_label(6, 0),
            "6 actors, none with a profile section on it"
        );
        assert_eq!(count_label(1, 1), "1 actor, with a profile section on it");
        assert_eq!(
            count_label(3, 3),
            "3 actors, each with a profile section on it"
        );
        assert_eq!(count_label(0, 0), "no actor yet");
    }
}
