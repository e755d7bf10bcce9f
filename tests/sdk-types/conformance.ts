// Compiled with `tsc --noEmit` by tests/sdk-surface.test.mjs: the real SDK, as it declares its
// types, satisfies the surface the widget uses (widget/sdk-surface.ts).
import { Client as RealClient } from '@twilio/conversations';
import type { SdkClientConstructor } from '../../widget/sdk-surface';

export const real: SdkClientConstructor = RealClient;
