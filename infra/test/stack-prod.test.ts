import { describeStack } from "./stack-assertions.ts";

describeStack("prod");
