//! The estimate's arithmetic, checked against the facts table's figures.

use super::*;
use crate::cost::prices::bundled;

fn smallest(region: &str) -> CostInputs {
    CostInputs {
        region: region.to_owned(),
        platform: Platform::LinuxAmd64,
        task: TaskSize {
            cpu: 256,
            memory: 512,
        },
        tasks: 1,
        max_tasks: None,
        hours_per_week: None,
        log_gb_per_month: 0.0,
        log_retention_days: 30,
        image_mb: None,
        load_balancer: false,
    }
}

fn line(e: &Estimate, component: CostComponent) -> &CostLine {
    e.lines.iter().find(|l| l.component == component).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn the_smallest_x86_task_in_us_east_1_matches_the_facts_table() {
    // 0.25 × 0.04048 + 0.5 × 0.004445 = 0.0123425 per hour, "0.01234/h, about 9.01 a
    // month"; plus 0.005 per hour for its public IPv4 address.
    let e = estimate(&smallest("us-east-1"), &bundled("us-east-1"));
    let compute = line(&e, CostComponent::Cpu).per_hour.unwrap()
        + line(&e, CostComponent::Memory).per_hour.unwrap();
    assert!(close(compute, 0.0123425), "{compute}");
    assert!(close(
        line(&e, CostComponent::PublicIpv4).per_hour.unwrap(),
        0.005
    ));
    assert!(close(e.per_hour, 0.0173425));
    assert!(close(compute * 730.0, 9.010025), "about 9.01 a month");
    assert!(close(e.per_month, 0.0173425 * 730.0));
    assert!(close(e.per_day, 0.0173425 * 24.0));
    assert_eq!(e.demo_per_month, None);
}

#[test]
fn arm_and_other_regions_use_their_own_rates() {
    let mut inputs = smallest("us-east-1");
    inputs.platform = Platform::LinuxArm64;
    let e = estimate(&inputs, &bundled("us-east-1"));
    assert!(close(
        line(&e, CostComponent::Cpu).per_hour.unwrap(),
        0.25 * 0.03238
    ));
    assert!(close(
        line(&e, CostComponent::Memory).per_hour.unwrap(),
        0.5 * 0.00356
    ));

    // 1 vCPU / 2 GB x86 in ap-southeast-1, 2 tasks: 2 × (0.05056 + 2 × 0.00553).
    let mut inputs = smallest("ap-southeast-1");
    inputs.task = TaskSize {
        cpu: 1024,
        memory: 2048,
    };
    inputs.tasks = 2;
    let e = estimate(&inputs, &bundled("ap-southeast-1"));
    let compute = line(&e, CostComponent::Cpu).per_hour.unwrap()
        + line(&e, CostComponent::Memory).per_hour.unwrap();
    assert!(close(compute, 2.0 * (0.05056 + 2.0 * 0.00553)), "{compute}");
    assert!(close(
        line(&e, CostComponent::PublicIpv4).per_hour.unwrap(),
        0.01
    ));
}

#[test]
fn demo_hours_scale_the_hourly_lines_and_not_storage() {
    let mut inputs = smallest("us-east-1");
    inputs.hours_per_week = Some(10.0);
    inputs.log_gb_per_month = 2.0;
    inputs.image_mb = Some(150.0);
    let e = estimate(&inputs, &bundled("us-east-1"));
    let hours = 10.0 * 730.0 / 168.0;
    assert!(close(e.running_hours_per_month, hours));
    let storage = 2.0 * 0.5 + 2.0 * 30.0 * 24.0 / 730.0 * 0.03 + 0.15 * 0.10;
    assert!(close(e.per_month, 0.0173425 * hours + storage), "{e:?}");
    assert!(close(e.always_on_per_month, 0.0173425 * 730.0 + storage));
    assert_eq!(e.demo_per_month, Some(e.per_month));
}

#[test]
fn a_load_balancer_is_billed_all_month_with_its_two_addresses() {
    let mut inputs = smallest("us-east-1");
    inputs.load_balancer = true;
    inputs.hours_per_week = Some(1.0);
    let e = estimate(&inputs, &bundled("us-east-1"));
    let lb = line(&e, CostComponent::LoadBalancer);
    assert!(close(lb.per_hour.unwrap(), 0.0225 + 0.008 + 0.01));
    assert!(close(lb.per_month, (0.0225 + 0.008 + 0.01) * 730.0));
}

/// The smallest x86 task in us-east-1 with its public IPv4, an hour.
const TASK_HOUR: f64 = 0.0173425;
/// The ALB's hour, one LCU-hour and two public IPv4 addresses (fargate-facts).
const LB_HOUR: f64 = 0.0225 + 0.008 + 2.0 * 0.005;

#[test]
fn one_task_two_tasks_and_the_load_balancer_add_up_as_billed() {
    let book = bundled("us-east-1");
    let one = estimate(&smallest("us-east-1"), &book);
    let two = estimate(
        &CostInputs {
            tasks: 2,
            ..smallest("us-east-1")
        },
        &book,
    );
    let two_behind = estimate(
        &CostInputs {
            tasks: 2,
            load_balancer: true,
            ..smallest("us-east-1")
        },
        &book,
    );
    assert!(close(one.per_hour, TASK_HOUR));
    assert!(
        close(two.per_hour, 2.0 * TASK_HOUR),
        "each task pays its vCPU, memory and address"
    );
    assert!(
        close(
            line(&two, CostComponent::PublicIpv4).per_hour.unwrap(),
            0.01
        ),
        "one address per task"
    );
    assert!(close(two_behind.per_hour, 2.0 * TASK_HOUR + LB_HOUR));
    assert!(close(
        two_behind.per_month,
        (2.0 * TASK_HOUR + LB_HOUR) * 730.0
    ));
    let lb = line(&two_behind, CostComponent::LoadBalancer);
    assert!(
        lb.detail.contains("assumes light traffic: 1 LCU")
            && lb.detail.contains("2 public IPv4 addresses (one per zone)"),
        "the assumption is said where the figure is: {}",
        lb.detail
    );
}

#[test]
fn the_stable_address_is_priced_beside_a_new_address_each_deploy() {
    let book = bundled("us-east-1");
    // Without a load balancer chosen, the choice is still priced, for the same tasks.
    for load_balancer in [false, true] {
        let e = estimate(
            &CostInputs {
                tasks: 2,
                load_balancer,
                ..smallest("us-east-1")
            },
            &book,
        );
        let a = &e.address;
        assert!(close(a.new_each_deploy_per_month, 2.0 * TASK_HOUR * 730.0));
        assert!(close(
            a.stable_per_month,
            (2.0 * TASK_HOUR + LB_HOUR) * 730.0
        ));
        assert!(
            close(a.stable_extra_per_month, LB_HOUR * 730.0),
            "about $29.57 a month more: the load balancer"
        );
        assert!(close(a.stable_extra_per_hour, LB_HOUR));
        let chosen = if load_balancer {
            a.stable_per_month
        } else {
            a.new_each_deploy_per_month
        };
        assert!(
            close(e.per_month, chosen),
            "the chosen way is the estimate's own month"
        );
        assert_eq!(a.assumption, "assumes light traffic: 1 LCU");
        assert_eq!(
            a.summary,
            "One address that never changes: about $54.89 a month; a new address each deploy: about $25.32 a month."
        );
    }
    // On a demo schedule the tasks bill 10 hours a week; the load balancer all month.
    let demo = estimate(
        &CostInputs {
            hours_per_week: Some(10.0),
            ..smallest("us-east-1")
        },
        &book,
    );
    assert!(close(demo.address.stable_extra_per_month, LB_HOUR * 730.0));
    assert!(close(
        demo.address.new_each_deploy_per_month,
        TASK_HOUR * 10.0 * 730.0 / 168.0
    ));
}

#[test]
fn with_scaling_the_month_is_said_from_the_fewest_to_the_most_tasks() {
    let book = bundled("us-east-1");
    let inputs = CostInputs {
        tasks: 1,
        max_tasks: Some(3),
        load_balancer: true,
        ..smallest("us-east-1")
    };
    let e = estimate(&inputs, &book);
    assert!(
        close(e.per_month, (TASK_HOUR + LB_HOUR) * 730.0),
        "the figures are at the fewest tasks"
    );
    let range = e.range.expect("scaling gives a range");
    assert_eq!((range.fewest_tasks, range.most_tasks), (1, 3));
    assert!(close(range.fewest_per_month, e.per_month));
    assert!(
        close(range.most_per_month, (3.0 * TASK_HOUR + LB_HOUR) * 730.0),
        "one load balancer however many tasks"
    );
    assert_eq!(
        range.summary,
        "From $42.23 (1 task) to $67.55 (3 tasks) a month"
    );
    let flat = estimate(
        &CostInputs {
            max_tasks: Some(1),
            ..inputs.clone()
        },
        &book,
    );
    assert_eq!(flat.range, None, "no range when the most is the fewest");

    let refused = cost_sheet(
        &CostInputs {
            tasks: 3,
            max_tasks: Some(2),
            ..inputs
        },
        book,
    )
    .unwrap_err();
    assert!(
        refused.to_string().contains("2 is fewer than the 3"),
        "{refused}"
    );
}

#[test]
fn the_sheet_states_the_traffic_the_load_balancer_figure_assumes() {
    let mut inputs = smallest("us-east-1");
    let plain = cost_sheet(&inputs, bundled("us-east-1")).unwrap();
    assert!(!plain.notes.iter().any(|n| n.contains("LCU")));
    inputs.load_balancer = true;
    let sheet = cost_sheet(&inputs, bundled("us-east-1")).unwrap();
    assert!(
        sheet
            .notes
            .iter()
            .any(|n| n.contains("assumes light traffic: 1 LCU") && n.contains("$0.0080")),
        "{:?}",
        sheet.notes
    );
    assert!(
        sheet.sizes.iter().all(|s| s.per_hour > LB_HOUR),
        "every size is priced with the load balancer"
    );
}

#[test]
fn every_valid_pair_is_offered_with_its_cost_and_no_invalid_one() {
    let sheet = cost_sheet(&smallest("us-east-1"), bundled("us-east-1")).unwrap();
    let expected: usize = task_size_options().iter().map(|o| o.memories.len()).sum();
    assert_eq!(sheet.sizes.len(), expected);
    assert_eq!(expected, 3 + 4 + 7 + 13 + 23 + 12 + 12);
    assert!(sheet
        .sizes
        .iter()
        .all(|s| is_valid_task_size(s.cpu, s.memory)));
    let largest = sheet.sizes.last().unwrap();
    assert_eq!((largest.cpu, largest.memory), (16384, 122880));
    assert!(close(
        largest.per_hour,
        16.0 * 0.04048 + 120.0 * 0.004445 + 0.005
    ));
    assert!(sheet.sizes.windows(2).all(|w| w[0].cpu <= w[1].cpu));
}

#[test]
fn invalid_choices_are_refused_with_what_to_do() {
    let mut inputs = smallest("us-east-1");
    inputs.task.memory = 1536;
    let err = cost_sheet(&inputs, bundled("us-east-1")).unwrap_err();
    assert!(
        err.to_string().contains("pick one of the offered pairs"),
        "{err}"
    );
    let mut inputs = smallest("us-east-1");
    inputs.hours_per_week = Some(200.0);
    assert!(cost_sheet(&inputs, bundled("us-east-1")).is_err());
    let mut inputs = smallest("us-east-1");
    inputs.tasks = 0;
    assert!(cost_sheet(&inputs, bundled("us-east-1")).is_err());
}
