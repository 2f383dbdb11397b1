-- Indexes for the lookup commands: every card and ranking reads by these columns, and at
-- 100 000 actors a full scan per query would cost milliseconds each.
CREATE INDEX sections_actor ON sections (actor_id, position);
CREATE INDEX sections_parent ON sections (parent_id);
CREATE INDEX section_topics_topic ON section_topics (topic_id);
CREATE INDEX actor_items_actor ON actor_items (actor_id);
CREATE INDEX actor_names_actor ON actor_names (actor_id);
CREATE INDEX standard_mentions_actor ON standard_mentions (actor_id);
CREATE INDEX documents_owner ON documents (owner_id);
CREATE INDEX documents_about ON documents (about_id);
