-- Undo 011_request_outcomes. Feedback events go with the type they used: the narrower check
-- of 009 would refuse them.
DROP TABLE IF EXISTS router_feedback;
DROP TABLE IF EXISTS router_refusals;
DELETE FROM router_analytics WHERE event_type = 'feedback';
ALTER TABLE router_analytics DROP CONSTRAINT router_analytics_event_type_check;
ALTER TABLE router_analytics ADD CONSTRAINT router_analytics_event_type_check
    CHECK (event_type IN ('search', 'delegate', 'chat_message', 'booking', 'error'));
