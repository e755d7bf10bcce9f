// Compiled with `tsc --noEmit` by tests/sdk-surface.test.mjs: both SDKs the widget runs on must
// satisfy the surface it uses (widget/sdk-surface.ts), as the real SDK declares its types.
import { Client as RealClient } from '@twilio/conversations';
import type { SdkClientConstructor } from '../../widget/sdk-surface';

export const real: SdkClientConstructor = RealClient;
import { Client as StandInClient } from '../../emulator/sdk/standin';

export const standIn: SdkClientConstructor = StandInClient;
