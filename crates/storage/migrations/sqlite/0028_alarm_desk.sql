-- The operations desk: who opened an alarm window by hand and the police report's reference
-- (a theft window stays open until an operator resolves it), the operator's note when a
-- window is resolved, and an employee's phone number for the operator to call the driver.
ALTER TABLE alarm_window ADD COLUMN opened_by TEXT;
ALTER TABLE alarm_window ADD COLUMN reference TEXT;
ALTER TABLE alarm_window ADD COLUMN note TEXT;
-- Windows opened by hand before this migration carried "<reason> (reported by <user>)".
UPDATE alarm_window
   SET opened_by = substr(triggers, instr(triggers, ' (reported by ') + 14,
                          length(triggers) - instr(triggers, ' (reported by ') - 14),
       triggers = substr(triggers, 1, instr(triggers, ' (reported by ') - 1)
 WHERE instr(triggers, ' (reported by ') > 0 AND substr(triggers, -1) = ')';
ALTER TABLE employee ADD COLUMN phone TEXT;
