-- Undo 003_chat.
DROP TABLE IF EXISTS chat_messages;
DROP TABLE IF EXISTS chat_sessions;
