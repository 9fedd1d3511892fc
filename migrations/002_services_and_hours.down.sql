-- Undo 002_services_and_hours.
DROP TABLE IF EXISTS opening_hours;
DROP TABLE IF EXISTS services;
