"""Users, roles, cohorts, enrolments, attendance and hours: the personal data, minimised and audited."""
