-- The audit log is append-only: the database itself refuses to change or remove a record.
-- (The hash chain still detects tampering by someone who drops these triggers first.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: records cannot be changed');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: records cannot be deleted');
END;
