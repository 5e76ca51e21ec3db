/** The local KMS operations on key rotation. */
import { optionalInt } from "./input.ts";
import { ROTATION_PERIOD_DAYS } from "./keystore.ts";
import { type Operation, type OperationContext, seconds } from "./operation-context.ts";

/** EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations. */
export function rotationOperations(ctx: OperationContext): Record<string, Operation> {
  const { store, keyFor, requireNotPendingDeletion, page } = ctx;
  return {
    EnableKeyRotation(caller, input) {
      const key = keyFor(caller, "EnableKeyRotation", input, { usable: true });
      const period = optionalInt(
        input,
        "RotationPeriodInDays",
        ROTATION_PERIOD_DAYS.min,
        ROTATION_PERIOD_DAYS.max,
      );
      key.rotationEnabled = true;
      key.rotationPeriodInDays = period ?? key.rotationPeriodInDays;
      store.scheduleRotation(key);
      store.save();
      return {};
    },

    DisableKeyRotation(caller, input) {
      const key = keyFor(caller, "DisableKeyRotation", input, { usable: true });
      key.rotationEnabled = false;
      store.scheduleRotation(key);
      store.save();
      return {};
    },

    GetKeyRotationStatus(caller, input) {
      const key = keyFor(caller, "GetKeyRotationStatus", input);
      requireNotPendingDeletion(key);
      const last = key.rotations.at(-1);
      return {
        KeyId: key.arn,
        KeyRotationEnabled: key.rotationEnabled,
        ...(key.rotationEnabled && {
          RotationPeriodInDays: key.rotationPeriodInDays,
          NextRotationDate: key.nextRotationDate === undefined ? undefined : seconds(key.nextRotationDate),
        }),
        ...(last?.type === "ON_DEMAND" && { OnDemandRotationStartDate: seconds(last.date) }),
      };
    },

    RotateKeyOnDemand(caller, input) {
      const key = keyFor(caller, "RotateKeyOnDemand", input, { usable: true });
      store.rotate(key, "ON_DEMAND");
      store.save();
      return { KeyId: key.arn };
    },

    ListKeyRotations(caller, input) {
      const key = keyFor(caller, "ListKeyRotations", input);
      requireNotPendingDeletion(key);
      const { slice, truncated, ...next } = page(key.rotations, input);
      return {
        Rotations: slice.map((r) => ({
          KeyId: key.arn,
          RotationDate: seconds(r.date),
          RotationType: r.type,
        })),
        Truncated: truncated,
        ...next,
      };
    },
  };
}
