// What the stable address would add to the project's bill, asked of the engine's estimate
// with the load balancer on and the project's own size, tasks and schedule otherwise.
import { estimateCost, type CostInputs } from '../../ipc';
import { stableExtra, type StableExtra } from './address';

export class StableAddressCost {
  /** The engine's figure; null before it answered or when it could not price it. */
  extra = $state<StableExtra | null>(null);
  #asked = '';

  /** Asks for the estimate of `base` with a load balancer, once per distinct `base`. */
  async follow(base: CostInputs | null): Promise<void> {
    if (base === null) return;
    const inputs = { ...base, loadBalancer: true };
    const key = JSON.stringify(inputs);
    if (key === this.#asked) return;
    this.#asked = key;
    try {
      const sheet = await estimateCost(inputs);
      if (key === this.#asked) this.extra = stableExtra(sheet);
    } catch {
      // No figure is shown then: the words point to the Cost tab instead of guessing one.
      if (key === this.#asked) this.extra = null;
    }
  }
}
