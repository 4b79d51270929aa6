use access::{DenialKind, Policy, ReadPurpose, Role, Rule, Scope, ScopeRule, User, UserId, View};
use ledger::Action;

const AT: i64 = 1_790_000_000_000;

fn user(roles: &[Role], employee: Option<&str>) -> User {
    User {
        id: UserId("u1".into()),
        name: "kari".into(),
        roles: roles.to_vec(),
        employee: employee.map(str::to_owned),
    }
}

fn everyone() -> User {
    user(&Role::ALL, Some("E042"))
}

/// A scope the cell's rule accepts, or All for denied cells.
fn scope_for(rule: Rule) -> Scope {
    match rule {
        Rule::Allowed {
            scope: ScopeRule::OwnOnly,
            ..
        } => Scope::Own,
        Rule::Allowed {
            scope: ScopeRule::AccessRequestOnly,
            ..
        } => Scope::AccessRequest {
            employee: "1001".to_owned(),
            reference: "INN-2026-7".to_owned(),
        },
        _ => Scope::All,
    }
}

#[test]
fn table_has_every_cell_exactly_once_in_order() {
    let table = Policy::table();
    assert_eq!(table.len(), Role::ALL.len() * ReadPurpose::ALL.len());
    let mut i = 0;
    for role in Role::ALL {
        for purpose in ReadPurpose::ALL {
            assert_eq!(
                (table[i].role, table[i].purpose),
                (role, purpose),
                "cell {i}"
            );
            assert_eq!(Policy::cell(role, purpose), &table[i]);
            i += 1;
        }
    }
}

#[test]
fn every_cell_has_a_reason_in_both_languages() {
    for cell in Policy::table() {
        assert!(!cell.reason.citation.is_empty(), "{cell:?}");
        assert!(!cell.reason.nb.is_empty(), "{cell:?}");
        assert!(!cell.reason.en.is_empty(), "{cell:?}");
    }
}

#[test]
fn authorise_agrees_with_the_table_for_every_cell() {
    let u = everyone();
    for cell in Policy::table() {
        let scope = scope_for(cell.rule);
        let result = Policy::authorise(&u, cell.role, cell.purpose, scope.clone(), AT);
        match (cell.rule, result) {
            (Rule::Allowed { view, .. }, Ok(grant)) => {
                let (cap, audit) = grant.into_parts();
                assert_eq!(cap.role(), cell.role);
                assert_eq!(cap.purpose(), cell.purpose);
                assert_eq!(cap.view(), view);
                assert_eq!(cap.scope(), &scope);
                assert_eq!(cap.user(), &u.id);
                assert_eq!(audit.action, Action::Read);
                assert_eq!(audit.outcome, "ok");
                assert_eq!(audit.role, cell.role.as_str());
                assert_eq!(audit.purpose, cell.purpose.as_str());
                assert_eq!(audit.actor, "u1");
                assert_eq!(audit.at_ms, AT);
            }
            (Rule::Denied, Err(d)) => {
                assert_eq!(d.kind(), DenialKind::NotPermitted, "{cell:?}");
                assert_eq!(d.reason(), cell.reason);
                assert_eq!(d.audit().action, Action::Denied);
                assert!(d.audit().outcome.contains(cell.reason.citation));
            }
            (Rule::Incompatible, Err(d)) => {
                assert_eq!(d.kind(), DenialKind::Incompatible, "{cell:?}");
                assert_eq!(d.reason(), cell.reason);
                assert_eq!(d.audit().action, Action::Denied);
            }
            (rule, other) => panic!(
                "{:?} × {:?}: table says {rule:?}, got {other:?}",
                cell.role, cell.purpose
            ),
        }
    }
}

#[test]
fn the_issue_s_role_purpose_grid() {
    use ReadPurpose as P;
    use Role as R;
    let allowed = |r, p| matches!(Policy::cell(r, p).rule, Rule::Allowed { .. });
    let expect: &[(Role, &[ReadPurpose])] = &[
        (R::Dispatcher, &[P::FleetView]),
        (R::LogKeeper, &[P::DrivingLog]),
        (R::SecurityOperator, &[P::Alarm]),
        (R::Analyst, &[P::Utilization]),
        // Own data only to answer one employee's access request (checked below).
        (
            R::PrivacyOfficer,
            &[P::Register, P::LedgerMetadata, P::OwnData],
        ),
        (R::Representative, &[P::Register, P::LedgerMetadata]),
        (R::Admin, &[]),
    ];
    for (role, purposes) in expect {
        for p in ReadPurpose::ALL {
            assert_eq!(allowed(*role, p), purposes.contains(&p), "{role:?} × {p:?}");
        }
    }
    assert_eq!(
        Policy::cell(R::LogKeeper, P::DrivingLog).rule,
        Rule::Allowed {
            view: View::DrivingLogKeeper,
            scope: ScopeRule::VehicleOrAll
        }
    );
    assert_eq!(
        Policy::cell(R::Dispatcher, P::FleetView).rule,
        Rule::Allowed {
            view: View::FleetLive,
            scope: ScopeRule::VehicleOrAll
        }
    );
    // The privacy officer reads one employee's data only on their access request.
    assert_eq!(
        Policy::cell(R::PrivacyOfficer, P::OwnData).rule,
        Rule::Allowed {
            view: View::OwnFull,
            scope: ScopeRule::AccessRequestOnly
        }
    );
    for p in [
        P::DrivingLog,
        P::FleetView,
        P::Alarm,
        P::Utilization,
        P::DriverBehaviour,
    ] {
        assert!(
            !allowed(R::PrivacyOfficer, p),
            "no tracking data otherwise: {p:?}"
        );
    }
    // Employees: every tracking purpose and own data, only about themselves.
    for p in [
        P::DrivingLog,
        P::FleetView,
        P::Alarm,
        P::DriverBehaviour,
        P::OwnData,
        P::LedgerMetadata,
    ] {
        assert!(
            matches!(
                Policy::cell(R::Employee, p).rule,
                Rule::Allowed {
                    scope: ScopeRule::OwnOnly,
                    ..
                }
            ),
            "{p:?}"
        );
    }
}

#[test]
fn dispatcher_driving_log_is_denied_per_purpose() {
    let d = Policy::authorise(
        &user(&[Role::Dispatcher], None),
        Role::Dispatcher,
        ReadPurpose::DrivingLog,
        Scope::Vehicle("EK12345".into()),
        AT,
    )
    .expect_err("dispatchers read the fleet view only");
    assert_eq!(d.kind(), DenialKind::NotPermitted);
    assert!(d.reason().citation.contains("5.3"));
    assert!(d.reason().citation.contains("5(1)(b)"));
    assert_eq!(d.audit().object, "driving_log vehicle EK12345");
}

#[test]
fn timesheet_control_is_refused_for_everyone_citing_pvn_2011_04() {
    let u = everyone();
    for role in Role::ALL {
        for scope in [Scope::Own, Scope::All, Scope::Vehicle("EK1".into())] {
            let d = Policy::authorise(&u, role, ReadPurpose::TimesheetControl, scope, AT)
                .expect_err("incompatible");
            assert_eq!(d.kind(), DenialKind::Incompatible);
            assert!(d.reason().citation.contains("PVN-2011-04"));
            assert!(d.message_en().contains("PVN-2011-04"));
            assert!(d.message_nb().contains("timelister"));
            assert!(d.message_en().contains("incompatible"));
            let a = d.into_audit();
            assert_eq!(a.action, Action::Denied);
            assert_eq!(a.purpose, "timesheet_control");
            assert!(a.outcome.contains("incompatible_purpose"));
            assert!(a.outcome.contains("PVN-2011-04"));
        }
    }
}

#[test]
fn security_data_for_performance_is_refused_citing_seed_000() {
    let d = Policy::authorise(
        &user(&[Role::SecurityOperator], None),
        Role::SecurityOperator,
        ReadPurpose::PerformanceReview,
        Scope::All,
        AT,
    )
    .expect_err("incompatible");
    assert_eq!(d.kind(), DenialKind::Incompatible);
    assert!(
        d.reason()
            .citation
            .contains("Overvåking av ansattes bruk av elektronisk utstyr")
    );
    assert!(d.reason().en.contains("security"));
    for role in Role::ALL {
        assert_eq!(
            Policy::cell(role, ReadPurpose::PerformanceReview).rule,
            Rule::Incompatible
        );
    }
}

#[test]
fn admin_reads_nothing() {
    let admin = user(&[Role::Admin], Some("E001"));
    for purpose in ReadPurpose::ALL {
        for scope in [Scope::Own, Scope::All, Scope::Vehicle("EK1".into())] {
            let d = Policy::authorise(&admin, Role::Admin, purpose, scope, AT)
                .expect_err("admins configure, they do not read");
            assert_eq!(d.audit().action, Action::Denied);
            assert_eq!(d.audit().role, "admin");
        }
    }
}

#[test]
fn employee_reads_only_own_scope() {
    let e = user(&[Role::Employee], Some("E042"));
    let g = Policy::authorise(&e, Role::Employee, ReadPurpose::DrivingLog, Scope::Own, AT)
        .expect("own driving log");
    assert_eq!(g.capability().subject(), Some("E042"));
    assert_eq!(g.audit().subject.as_deref(), Some("E042"));
    assert_eq!(g.capability().view(), View::OwnFull);
    assert!(!g.capability().covers_vehicle("EK1"));

    for scope in [Scope::All, Scope::Vehicle("EK1".into())] {
        let d = Policy::authorise(&e, Role::Employee, ReadPurpose::DrivingLog, scope, AT)
            .expect_err("not others");
        assert_eq!(d.kind(), DenialKind::ScopeNotAllowed);
        assert_eq!(d.audit().action, Action::Denied);
    }
    let g = Policy::authorise(&e, Role::Employee, ReadPurpose::OwnData, Scope::Own, AT)
        .expect("own data");
    let (cap, audit) = g.into_parts();
    assert_eq!(cap.purpose(), ReadPurpose::OwnData);
    assert_eq!(audit.into_entry(7).seq, 7);
}

#[test]
fn own_scope_needs_an_employee_record() {
    let e = user(&[Role::Employee], None);
    let d = Policy::authorise(&e, Role::Employee, ReadPurpose::OwnData, Scope::Own, AT)
        .expect_err("no record");
    assert_eq!(d.kind(), DenialKind::NoEmployeeRecord);
}

#[test]
fn other_roles_cannot_use_own_scope() {
    let d = Policy::authorise(
        &user(&[Role::Dispatcher], Some("E1")),
        Role::Dispatcher,
        ReadPurpose::FleetView,
        Scope::Own,
        AT,
    )
    .expect_err("own data goes through the employee role");
    assert_eq!(d.kind(), DenialKind::ScopeNotAllowed);
}

#[test]
fn role_not_held_is_denied_and_recorded() {
    let u = user(&[Role::Employee], Some("E042"));
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Employee) {
        for purpose in ReadPurpose::ALL {
            let d =
                Policy::authorise(&u, role, purpose, Scope::All, AT).expect_err("role not held");
            assert_eq!(d.kind(), DenialKind::RoleNotHeld);
            let a = d.audit();
            assert_eq!(a.action, Action::Denied);
            assert_eq!(a.role, role.as_str());
            assert!(a.outcome.starts_with("denied: role_not_held"));
        }
    }
}

#[test]
fn vehicle_scope_capability_covers_only_that_vehicle() {
    let g = Policy::authorise(
        &user(&[Role::LogKeeper], None),
        Role::LogKeeper,
        ReadPurpose::DrivingLog,
        Scope::Vehicle("EK12345".into()),
        AT,
    )
    .expect("log keeper");
    let cap = g.capability();
    assert!(cap.covers_vehicle("EK12345"));
    assert!(!cap.covers_vehicle("EK99999"));
    assert_eq!(cap.granted_at_ms(), AT);
    assert_eq!(cap.subject(), None);
}

#[test]
fn roles_and_purposes_round_trip() {
    for r in Role::ALL {
        assert_eq!(Role::parse(r.as_str()), Ok(r));
    }
    assert!(Role::parse("root").is_err());
    for p in ReadPurpose::ALL {
        assert_eq!(ReadPurpose::parse(p.as_str()), Some(p));
    }
    assert_eq!(ReadPurpose::parse("spying"), None);
    for p in org::Purpose::ALL {
        let rp = ReadPurpose::from(p);
        assert_eq!(rp.tracking(), Some(p));
        assert_eq!(rp.as_str(), p.as_str());
    }
    assert_eq!(ReadPurpose::TimesheetControl.tracking(), None);
}
