import { SetMetadata } from '@nestjs/common';
import { IS_PUBLIC } from './revocation.constants';

/** Marks a route or controller as reachable without a token. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
