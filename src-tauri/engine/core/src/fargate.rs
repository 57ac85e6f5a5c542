//! Facts about Fargate that Slipway checks before AWS does, kept as data with their source
//! and date so they can be refreshed: the valid task sizes (cpu units to memory MiB).

use serde::Serialize;

/// Source: AWS ECS Developer Guide, "Task CPU and memory" (Linux containers), read
/// 2026-11. 8 and 16 vCPU need Linux platform version 1.4.0 or later.
/// Each row: cpu units, first memory MiB, last memory MiB, step MiB.
const TASK_SIZES: [(u32, u32, u32, u32); 7] = [
    (256, 512, 2048, 0), // the 0.25 vCPU row is a list, not a range: see `memories_for`
    (512, 1024, 4096, 1024),
    (1024, 2048, 8192, 1024),
    (2048, 4096, 16384, 1024),
    (4096, 8192, 30720, 1024),
    (8192, 16384, 61440, 4096),
    (16384, 32768, 122880, 8192),
];

/// One cpu setting and the memory sizes Fargate accepts with it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TaskSizeOption {
    pub cpu: u32,
    pub memories: Vec<u32>,
}

/// The memory sizes (MiB) Fargate accepts for `cpu` units; empty when `cpu` is not one of
/// Fargate's cpu settings.
pub fn memories_for(cpu: u32) -> Vec<u32> {
    if cpu == 256 {
        return vec![512, 1024, 2048];
    }
    TASK_SIZES
        .iter()
        .find(|(c, ..)| *c == cpu)
        .map(|&(_, first, last, step)| (first..=last).step_by(step as usize).collect())
        .unwrap_or_default()
}

pub fn cpu_settings() -> impl Iterator<Item = u32> {
    TASK_SIZES.iter().map(|(cpu, ..)| *cpu)
}

pub fn task_size_options() -> Vec<TaskSizeOption> {
    cpu_settings()
        .map(|cpu| TaskSizeOption {
            cpu,
            memories: memories_for(cpu),
        })
        .collect()
}

pub fn is_valid_task_size(cpu: u32, memory: u32) -> bool {
    memories_for(cpu).contains(&memory)
}

/// "0.25 vCPU" for 256 units, as people and the AWS console say it.
pub fn vcpu_label(cpu: u32) -> String {
    let vcpu = f64::from(cpu) / 1024.0;
    format!("{vcpu} vCPU")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_pairs_are_valid_and_their_neighbours_are_not() {
        assert!(is_valid_task_size(256, 512));
        assert!(is_valid_task_size(256, 2048));
        assert!(
            !is_valid_task_size(256, 1536),
            "0.25 vCPU takes 512, 1024 or 2048 only"
        );
        assert!(is_valid_task_size(512, 4096));
        assert!(!is_valid_task_size(512, 512));
        assert!(is_valid_task_size(4096, 30720));
        assert!(!is_valid_task_size(4096, 31744));
        assert!(is_valid_task_size(8192, 20480));
        assert!(
            !is_valid_task_size(8192, 17408),
            "8 vCPU steps by 4 GiB, not 1 GiB"
        );
        assert!(is_valid_task_size(16384, 122880));
        assert!(!is_valid_task_size(300, 512), "300 is not a cpu setting");
    }

    #[test]
    fn every_cpu_setting_offers_its_full_memory_range() {
        let options = task_size_options();
        assert_eq!(options.len(), 7);
        assert_eq!(options[1].memories, vec![1024, 2048, 3072, 4096]);
        assert_eq!(options[3].memories.len(), 13, "2 vCPU: 4 to 16 GiB");
        assert_eq!(vcpu_label(256), "0.25 vCPU");
        assert_eq!(vcpu_label(1024), "1 vCPU");
    }
}
