/**
 * A FIFO of tasks run one at a time. Synchronous tasks run at once (no microtask hop, so the hot
 * path of a topic costs nothing); a task returning a promise holds the queue until it settles.
 * @module
 */

/** A unit of work; a returned promise holds the queue until it settles. */
export type SerialTask = () => void | Promise<void>;

/** Runs tasks strictly in order; errors go to `onError` and never stop the queue. */
export class SerialQueue {
  private readonly tasks: SerialTask[] = [];
  private head = 0;
  private busy = false;

  /** @param onError receives what a task threw or rejected with */
  constructor(private readonly onError: (error: unknown) => void) {}

  /** Run `task` after every task queued before it. */
  run(task: SerialTask): void {
    this.tasks.push(task);
    if (!this.busy) this.pump();
  }

  /** Whether no task is queued or running. */
  get idle(): boolean {
    return !this.busy && this.head >= this.tasks.length;
  }

  private pump(): void {
    this.busy = true;
    while (this.head < this.tasks.length) {
      const task = this.tasks[this.head]!;
      this.tasks[this.head++] = undefined as unknown as SerialTask;
      let r: void | Promise<void>;
      try {
        r = task();
      } catch (e) {
        this.onError(e);
        continue;
      }
      if (r !== undefined && typeof (r as Promise<void>).then === "function") {
        (r as Promise<void>).then(
          () => this.resume(),
          (e: unknown) => {
            this.onError(e);
            this.resume();
          },
        );
        return;
      }
    }
    this.tasks.length = 0;
    this.head = 0;
    this.busy = false;
  }

  private resume(): void {
    this.busy = false;
    if (this.head < this.tasks.length) this.pump();
    else {
      this.tasks.length = 0;
      this.head = 0;
    }
  }
}
