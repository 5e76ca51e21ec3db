import { describeStack } from "./stack-assertions.ts";

describeStack("dev");
