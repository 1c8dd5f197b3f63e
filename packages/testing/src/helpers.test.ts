import { describe, expect, it } from "vitest";
import { collectAll, rejectionOf } from "./helpers";

describe("test helpers", () => {
  it("rejectionOf gives the rejection, and fails loudly when the promise resolves", async () => {
    const error = new Error("no");
    expect(await rejectionOf(Promise.reject(error))).toBe(error);
    await expect(rejectionOf(Promise.resolve({ text: "yes" }))).rejects.toThrow(
      /expected a rejection, but the promise resolved with \{"text":"yes"\}/,
    );
  });

  it("collectAll gives every value in order", async () => {
    async function* three() {
      yield 1;
      yield 2;
      yield 3;
    }
    expect(await collectAll(three())).toEqual([1, 2, 3]);
  });
});
