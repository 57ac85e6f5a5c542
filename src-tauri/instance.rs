//! One Slipway per data folder: a second launch hands over to the first, whose window comes
//! to the front, and exits. Two windows on one folder would share the deploy journal and
//! lock without knowing of each other. The claim is an exclusive lock on a file in the data
//! folder (released by the OS when the process ends, however it ends) and a loopback port
//! the first one listens on; keyed by folder, so separate folders (test sessions) run side
//! by side.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

const LOCK_FILE: &str = "instance.lock";
const PORT_FILE: &str = "instance.port";
const SHOW: &[u8] = b"show\n";
const SHOWN: &[u8] = b"ok\n";

/// What this launch is: the one that keeps the window, or a later one that handed over.
pub enum Instance {
    First(Claim),
    /// Another Slipway has the folder; `told` says whether it was asked to come to the front.
    Second {
        told: bool,
    },
}

/// The first launch's hold on the folder; dropped, the next launch becomes the first.
pub struct Claim {
    lock: File,
    listener: TcpListener,
}

/// The lock, kept for as long as the app runs, and let go just before a restart (an update):
/// the new process must find the folder free, not hand over to the one that is ending.
#[derive(Default)]
pub struct Held(std::sync::Mutex<Option<File>>);

impl Held {
    pub fn release(&self) {
        self.0.lock().expect("instance lock").take();
    }
}

/// Claims `data_dir` for this process, or asks the process that holds it to show itself.
pub fn claim(data_dir: &Path) -> io::Result<Instance> {
    fs::create_dir_all(data_dir)?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.join(LOCK_FILE))?;
    match lock.try_lock() {
        Ok(()) => claim_with(lock, data_dir),
        Err(TryLockError::WouldBlock) => {
            // The first one may have just taken the lock (its port not written yet) or be
            // ending (a restart after an update): ask a few times, then look at the lock again.
            for _ in 0..15 {
                if tell_first(data_dir).is_ok() {
                    return Ok(Instance::Second { told: true });
                }
                std::thread::sleep(Duration::from_millis(200));
                if lock.try_lock().is_ok() {
                    return claim_with(lock, data_dir);
                }
            }
            Ok(Instance::Second { told: false })
        }
        Err(TryLockError::Error(e)) => Err(e),
    }
}

fn claim_with(lock: File, data_dir: &Path) -> io::Result<Instance> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let port = listener.local_addr()?.port();
    // Written whole then renamed: a later launch never reads half a number.
    let partial = data_dir.join(format!("{PORT_FILE}.partial"));
    fs::write(&partial, port.to_string())?;
    fs::rename(&partial, data_dir.join(PORT_FILE))?;
    Ok(Instance::First(Claim { lock, listener }))
}

/// Asks the first one to show itself; `Ok` only once it answered that it did.
fn tell_first(data_dir: &Path) -> io::Result<()> {
    let port: u16 = fs::read_to_string(data_dir.join(PORT_FILE))?
        .trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not a port"))?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(SHOW)?;
    let mut answer = [0u8; SHOWN.len()];
    stream.read_exact(&mut answer)?;
    if answer == SHOWN {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidData, "not Slipway"))
    }
}

impl Claim {
    /// Runs `show` for each later launch, on a thread of its own, for as long as the process
    /// lives; the lock goes into `held`.
    pub fn on_later_launch(self, held: &Held, show: impl Fn() + Send + 'static) {
        let Claim { lock, listener } = self;
        *held.0.lock().expect("instance lock") = Some(lock);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut asked = [0u8; SHOW.len()];
                if stream.read_exact(&mut asked).is_ok() && asked == SHOW {
                    show();
                    let _ = stream.write_all(SHOWN);
                }
            }
        });
    }
}

#[cfg(test)]
mod instance_tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_second_claim_hands_over_and_the_first_is_asked_to_show_itself() {
        let dir = tempfile::tempdir().unwrap();
        let Instance::First(first) = claim(dir.path()).unwrap() else {
            panic!("the first claim holds the folder");
        };
        let (shown, asked) = mpsc::channel();
        let held = Held::default();
        first.on_later_launch(&held, move || shown.send(()).unwrap());
        let Instance::Second { told } = claim(dir.path()).unwrap() else {
            panic!("a second claim on the same folder is refused");
        };
        assert!(told);
        asked
            .recv_timeout(Duration::from_secs(5))
            .expect("the first one was asked to show itself");

        // Let go (a restart after an update): the next launch is the first again.
        held.release();
        assert!(matches!(claim(dir.path()).unwrap(), Instance::First(_)));
    }

    #[test]
    fn another_folder_is_another_instance_and_a_dropped_claim_frees_the_folder() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let Instance::First(held) = claim(a.path()).unwrap() else {
            panic!("first");
        };
        assert!(matches!(claim(b.path()).unwrap(), Instance::First(_)));
        drop(held);
        assert!(
            matches!(claim(a.path()).unwrap(), Instance::First(_)),
            "the lock goes with the process (here: the claim) that held it"
        );
    }
}
