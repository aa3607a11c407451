// IPC plumbing for the orchestrator: fork a child process, wait for its typed messages with
// a deadline, and make sure no child outlives the run (hard kill after a grace period).
import { fork } from 'node:child_process'
import { createInterface } from 'node:readline'

export class Child {
  /** `sidePipe`: the child may also write JSON lines to its fd 4, handled like IPC messages. */
  constructor(file, { execArgv = [], name, sidePipe = false }) {
    this.name = name
    const stdio = ['ignore', 'inherit', 'inherit', 'ipc', ...(sidePipe ? ['pipe'] : [])]
    this.proc = fork(file, [], { execArgv, stdio })
    this.inbox = []
    this.waiters = []
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)))
    if (sidePipe) {
      createInterface({ input: this.proc.stdio[4] }).on('line', (line) => {
        this.#deliver(JSON.parse(line))
      })
    }
    this.proc.on('message', (msg) => this.#deliver(msg))
    this.proc.once('exit', (code, signal) => {
      const why = this.fatal ? `: ${this.fatal}` : ''
      const err = new Error(`${name} exited (${code ?? signal})${why}`)
      for (const w of this.waiters.splice(0)) w.reject(err)
    })
  }

  #deliver(msg) {
    if (msg.type === 'fatal') {
      this.fatal = msg.error
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.name}: ${msg.error}`))
      return
    }
    const i = this.waiters.findIndex((w) => w.type === msg.type)
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(msg)
    else this.inbox.push(msg)
  }

  send(msg) {
    if (this.proc.connected) this.proc.send(msg)
  }

  /** The next message of `type`, or a rejection after `timeoutMs`. */
  waitFor(type, timeoutMs) {
    const i = this.inbox.findIndex((m) => m.type === type)
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0])
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      const why = this.fatal ? `: ${this.fatal}` : ''
      return Promise.reject(new Error(`${this.name} already exited${why}`))
    }
    return new Promise((resolve, reject) => {
      const waiter = { type, resolve, reject }
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        reject(new Error(`${this.name}: no '${type}' within ${Math.round(timeoutMs)} ms`))
      }, timeoutMs)
      waiter.resolve = (msg) => {
        clearTimeout(timer)
        resolve(msg)
      }
      waiter.reject = (err) => {
        clearTimeout(timer)
        reject(err)
      }
      this.waiters.push(waiter)
    })
  }

  /** Like waitFor, but resolves to null instead of failing (for best-effort figures). */
  maybe(type, timeoutMs) {
    return this.waitFor(type, timeoutMs).catch(() => null)
  }

  /** Asks the child to stop; kills it if it has not exited after `graceMs`. */
  async stop(graceMs = 3000) {
    this.send({ type: 'stop' })
    const timer = setTimeout(() => this.kill(), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  kill() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL')
  }
}
